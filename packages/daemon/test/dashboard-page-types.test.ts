/**
 * The dashboard page is plain JavaScript served as it is, type-checked against the
 * protocol by `pnpm typecheck` (`tsconfig.dashboard-page.json`). This proves the check
 * bites: the page as it is passes, and a misspelt event, command, argument or payload
 * field fails it.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const CONFIG = fileURLToPath(new URL('../tsconfig.dashboard-page.json', import.meta.url));
const APP = fileURLToPath(new URL('../src/dashboard/page/app.js', import.meta.url));

function parseConfig(): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(CONFIG, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (parsed === undefined) throw new Error(`cannot read ${CONFIG}`);
  return parsed;
}

const config = parseConfig();
// Every file but app.js is parsed once (the DOM and protocol types are most of the work).
const parsedFiles = new Map<string, ts.SourceFile | undefined>();

/** The page's type errors after `edit` is applied to app.js. */
function pageErrors(edit: (source: string) => string): string[] {
  const host = ts.createCompilerHost(config.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError) => {
    if (fileName === APP) return ts.createSourceFile(fileName, edit(ts.sys.readFile(APP) ?? ''), languageVersion, true);
    if (!parsedFiles.has(fileName)) parsedFiles.set(fileName, getSourceFile(fileName, languageVersion, onError));
    return parsedFiles.get(fileName);
  };
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, host });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
}

/** Replaces each `from` (which must be in the page) by its `to`. */
function misspell(edits: Array<[from: string, to: string]>): (source: string) => string {
  return (source) =>
    edits.reduce((edited, [from, to]) => {
      if (!edited.includes(from)) throw new Error(`app.js no longer contains ${from}`);
      return edited.replace(from, to);
    }, source);
}

// A type-checker run takes seconds, and more on a loaded machine.
describe('the dashboard page type check', { timeout: 60_000 }, () => {
  it('passes for the page as it is', () => {
    expect(config.fileNames).toContain(APP);
    expect(pageErrors((source) => source)).toEqual([]);
  });

  it('fails a misspelt event name, command name, command argument and payload field', () => {
    const errors = pageErrors(
      misspell([
        ["socket.on('session:changed'", "socket.on('session:chnged'"],
        ["command('session:create',", "command('session:creat',"],
        ['{ sessionId: session.id, phone }', '{ sessionId: session.id, phon: phone }'],
        ['state.messages.get(summary.sessionId)', 'state.messages.get(summary.sesionId)'],
      ]),
    ).join('\n');
    expect(errors).toContain('"session:chnged"');
    expect(errors).toContain('"session:creat"');
    expect(errors).toContain("'phon'");
    expect(errors).toContain("Property 'sesionId' does not exist");
  });
});
