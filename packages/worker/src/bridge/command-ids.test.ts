import { commandIdSchema } from '@stickerbot/protocol';
import { describe, expect, it } from 'vitest';
import { createCommandIds } from './command-ids.js';

describe('createCommandIds', () => {
  it('derives the same sequence from the same triggering message', () => {
    const first = createCommandIds('default:3EB0ABC');
    const again = createCommandIds('default:3EB0ABC');
    expect([first.next(), first.next()]).toEqual([again.next(), again.next()]);
    expect(createCommandIds('default:OTHER').next()).not.toBe(createCommandIds('default:3EB0ABC').next());
  });

  it('names timing-dependent sends apart from the numbered sequence', () => {
    const ids = createCommandIds('default:3EB0ABC');
    expect(ids.named('wait')).toBe('w.default:3EB0ABC.wait');
    expect(ids.next()).toBe('w.default:3EB0ABC.1');
    expect(commandIdSchema.safeParse(createCommandIds('x'.repeat(300)).named('wait')).success).toBe(true);
  });

  it('stays within the protocol id alphabet and length for long or odd bases', () => {
    const ids = [createCommandIds('x'.repeat(300)).next(), createCommandIds('odd id/with spaces').next()];
    for (const id of ids) expect(commandIdSchema.safeParse(id).success).toBe(true);
  });
});
