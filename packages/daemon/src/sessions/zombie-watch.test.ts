import { describe, expect, it } from 'vitest';
import { DEFAULT_ZOMBIE, createLiveness, deafReason, noteAck, noteSent } from './zombie-watch.js';

describe('deaf-connection detection', () => {
  it('flags a connection without frames for longer than the frame timeout', () => {
    const liveness = createLiveness(0);
    expect(deafReason(liveness, 75_000, DEFAULT_ZOMBIE)).toBeUndefined();
    expect(deafReason(liveness, 75_001, DEFAULT_ZOMBIE)).toMatch(/no frame from WhatsApp for 75 s/);
  });

  it('flags a send without server ack, and forgets acked ones, even acks that came first', () => {
    const liveness = createLiveness(0);
    noteAck(liveness, 'EARLY');
    noteSent(liveness, 'EARLY', 0);
    noteSent(liveness, 'LATE', 0);
    liveness.lastFrameAt = 50_000;
    expect(deafReason(liveness, 50_000, DEFAULT_ZOMBIE)).toMatch(/LATE got no server ack/);
    noteAck(liveness, 'LATE');
    expect(deafReason(liveness, 50_000, DEFAULT_ZOMBIE)).toBeUndefined();
  });
});
