import type { CommandDefinition } from '../router/define-command.js';
import { autostickerCommand } from './autosticker.js';
import { findCommand } from './find.js';
import { helpCommand } from './help.js';
import { packCommand } from './pack.js';
import { pingCommand } from './ping.js';
import { publicCommand } from './public.js';
import { randomCommand } from './random.js';
import { sessionsCommand } from './sessions.js';
import { statsCommand } from './stats.js';
import { stickerCommand } from './sticker.js';
import { tagCommand } from './tag.js';
import { takeCommand } from './take.js';
import { textCommand } from './text.js';
import { toimgCommand } from './toimg.js';
import { topCommand } from './top.js';

/** Every chat command, in the order `help` lists them. */
export const COMMANDS: readonly CommandDefinition[] = [
  stickerCommand,
  toimgCommand,
  takeCommand,
  packCommand,
  textCommand,
  autostickerCommand,
  tagCommand,
  findCommand,
  publicCommand,
  randomCommand,
  topCommand,
  statsCommand,
  pingCommand,
  helpCommand,
  sessionsCommand,
];
