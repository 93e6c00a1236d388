import type { MediaProbe } from './probe-media.js';

interface Box {
  type: string;
  /** Where the box's payload starts and ends in the file. */
  start: number;
  end: number;
}

/** The boxes inside `[start, end)`, or undefined when a size does not add up. */
function boxes(bytes: Buffer, start: number, end: number): Box[] | undefined {
  const out: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    let size = bytes.readUInt32BE(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) return undefined;
      size = Number(bytes.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = end - at;
    if (size < header || at + size > end) return undefined;
    out.push({ type: bytes.toString('latin1', at + 4, at + 8), start: at + header, end: at + size });
    at += size;
  }
  return out;
}

function child(bytes: Buffer, parent: Box, type: string): Box | undefined {
  return boxes(bytes, parent.start, parent.end)?.find((b) => b.type === type);
}

/** Timescale and duration of an mvhd or mdhd box (version 0 or 1). */
function timing(bytes: Buffer, box: Box): { timescale: number; duration: number } | undefined {
  const version = bytes[box.start];
  const need = version === 1 ? 32 : 20;
  if (box.end - box.start < need) return undefined;
  return version === 1
    ? { timescale: bytes.readUInt32BE(box.start + 20), duration: Number(bytes.readBigUInt64BE(box.start + 24)) }
    : { timescale: bytes.readUInt32BE(box.start + 12), duration: bytes.readUInt32BE(box.start + 16) };
}

/** Width, height and frame rate of a video track (`trak`); null for another kind of track, undefined if unreadable. */
function videoTrack(bytes: Buffer, trak: Box): { width: number; height: number; fps: number } | null | undefined {
  const mdia = child(bytes, trak, 'mdia');
  const hdlr = mdia && child(bytes, mdia, 'hdlr');
  if (mdia === undefined || hdlr === undefined || hdlr.end - hdlr.start < 12) return undefined;
  if (bytes.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'vide') return null;
  const mdhd = child(bytes, mdia, 'mdhd');
  const minf = child(bytes, mdia, 'minf');
  const stbl = minf && child(bytes, minf, 'stbl');
  const stsd = stbl && child(bytes, stbl, 'stsd');
  const stts = stbl && child(bytes, stbl, 'stts');
  const media = mdhd && timing(bytes, mdhd);
  // stsd: version/flags, entry count, then the first visual sample entry (width and height at 32 and 34 of it).
  if (stsd === undefined || stts === undefined || media === undefined || stsd.end - stsd.start < 8 + 36 || stts.end - stts.start < 8) return undefined;
  const width = bytes.readUInt16BE(stsd.start + 8 + 32);
  const height = bytes.readUInt16BE(stsd.start + 8 + 34);
  const entries = bytes.readUInt32BE(stts.start + 4);
  if (stts.end - stts.start < 8 + entries * 8) return undefined;
  let samples = 0;
  for (let i = 0; i < entries; i += 1) samples += bytes.readUInt32BE(stts.start + 8 + i * 8);
  const seconds = media.timescale > 0 ? media.duration / media.timescale : 0;
  if (width === 0 || height === 0 || samples === 0 || seconds <= 0) return undefined;
  return { width, height, fps: samples / seconds };
}

/**
 * Reads an MP4/MOV's duration, video size and frame rate from its `moov` box, in process:
 * asking `ffmpeg -i` costs a process start, which for a distribution's dynamically linked
 * ffmpeg (a couple of hundred shared libraries) is a sizeable part of a short clip's
 * conversion. Undefined whenever the answer is not plain (fragmented file, several or no
 * video tracks, sizes that do not add up): the caller then asks ffmpeg.
 */
export function probeMp4(bytes: Buffer): MediaProbe | undefined {
  const top = boxes(bytes, 0, bytes.length);
  if (top === undefined || top.some((b) => b.type === 'moof')) return undefined;
  const moov = top.find((b) => b.type === 'moov');
  const inside = moov && boxes(bytes, moov.start, moov.end);
  const mvhd = inside?.find((b) => b.type === 'mvhd');
  const movie = mvhd && timing(bytes, mvhd);
  if (inside === undefined || movie === undefined || movie.timescale === 0 || movie.duration === 0) return undefined;
  const tracks = inside.filter((b) => b.type === 'trak').map((trak) => videoTrack(bytes, trak));
  const videos = tracks.filter((t) => t !== null);
  const video = videos[0];
  if (videos.length !== 1 || video === undefined) return undefined;
  return { durationSeconds: movie.duration / movie.timescale, video: { width: video.width, height: video.height, fps: Math.round(video.fps * 100) / 100 } };
}
