import type { BinaryNode } from '@whiskeysockets/baileys';
import type { ClientConnection } from './client-connection.js';
import { children } from './nodes.js';
import type { World } from './world.js';

/** What a node handler gets besides the node. */
export interface HandlerContext {
  readonly world: World;
  readonly connection: ClientConnection;
}

export type NodeHandler = (ctx: HandlerContext, node: BinaryNode) => Promise<void> | void;

/** A table of handlers keyed by {@link routeKey}. */
export type HandlerTable = Readonly<Record<string, NodeHandler>>;

/**
 * The dispatch key of a client node: `iq <xmlns> <type> <first child>` for iqs,
 * `ib <first child>` for ib stanzas, the tag otherwise.
 */
export function routeKey(node: BinaryNode): string {
  const first = children(node)[0]?.tag ?? '';
  if (node.tag === 'iq') return `iq ${node.attrs.xmlns ?? ''} ${node.attrs.type ?? ''} ${first}`.trimEnd();
  if (node.tag === 'ib') return `ib ${first}`.trimEnd();
  return node.tag;
}

/** Dispatches a node to its handler; nodes without one go to the unhandled log. */
export function createRouter(table: HandlerTable) {
  return async (ctx: HandlerContext, node: BinaryNode): Promise<void> => {
    const key = routeKey(node);
    const handler = table[key];
    if (!handler) {
      ctx.world.unhandled.push({ connectionId: ctx.connection.id, key, node });
      ctx.world.log.warn({ key, node }, 'unhandled client node');
      return;
    }
    await handler(ctx, node);
  };
}
