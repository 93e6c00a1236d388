import type { HandlerTable } from '../server/router.js';
import { iqResult } from '../server/nodes.js';

/** `media_conn`: where and with which token clients upload media. */
export const mediaConnHandlers: HandlerTable = {
  'iq w:m set media_conn': ({ world, connection }, iq) =>
    connection.send(
      iqResult(iq, [
        {
          tag: 'media_conn',
          attrs: { auth: world.media.auth, ttl: '300', auth_ttl: '21600', max_buckets: '12' },
          content: [{ tag: 'host', attrs: { hostname: world.media.hostname, maxContentLengthBytes: String(64 * 1024 * 1024) } }],
        },
      ]),
    ),
};
