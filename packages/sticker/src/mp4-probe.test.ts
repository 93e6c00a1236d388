import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeVideo, testFfmpeg } from './test-kit/index.js';
import { probeMp4 } from './mp4-probe.js';
import { parseProbe } from './probe-media.js';
import { runProcess } from './run-process.js';

async function ffmpegProbe(bytes: Buffer): Promise<ReturnType<typeof parseProbe>> {
  const dir = await mkdtemp(join(tmpdir(), 'mp4-probe-test-'));
  try {
    const file = join(dir, 'clip.mp4');
    await writeFile(file, bytes);
    const result = await runProcess(testFfmpeg(), { args: ['-hide_banner', '-nostdin', '-i', file], timeoutMs: 30_000, maxStdoutBytes: 1024 });
    return parseProbe(result.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('MP4 header probe', () => {
  it("reads the same duration, size and frame rate as ffmpeg's probe, without starting ffmpeg", async () => {
    const clip = await makeVideo({ seconds: 2, width: 320, height: 240, fps: 25, audio: true });
    const probe = probeMp4(clip);
    const ffmpeg = await ffmpegProbe(clip);
    expect(probe?.video).toEqual(ffmpeg.video);
    // ffmpeg prints the duration to the centisecond.
    expect(Math.abs(probe!.durationSeconds! - ffmpeg.durationSeconds!)).toBeLessThan(0.01);
  }, 60_000);

  it('leaves what it cannot read plainly to ffmpeg: truncated, not an MP4, no movie header', () => {
    expect(probeMp4(Buffer.from('not an mp4 at all'))).toBeUndefined();
    const fake = Buffer.alloc(24);
    fake.writeUInt32BE(24, 0);
    fake.write('ftyp', 4, 'latin1');
    expect(probeMp4(fake)).toBeUndefined();
  });

  it('gives up on a file cut inside its movie header', async () => {
    const clip = await makeVideo({ seconds: 1, width: 160, height: 120, fps: 10 });
    const moov = clip.indexOf('moov', 0, 'latin1');
    expect(moov).toBeGreaterThan(0);
    expect(probeMp4(clip.subarray(0, moov + 40))).toBeUndefined();
  }, 60_000);
});
