/**
 * What every command that reads a rollout source says on stderr: each bad line as
 * `<file>:<line>: <error>` and each source note as `<file>[:<line>]: note: <message>`, so what an
 * adapter found in the input is never silent, whichever command read it. The file is the path
 * as the user gave it when it is that file, else the file inside the folder.
 */
import type { SourceNote } from '../core/ingest/types';
import type { BadLine } from '../core/schema/record';
import type { CliIO } from './io';

export function reportSource(io: CliIO, given: string, abs: string, summary: { badLines: readonly BadLine[]; notes?: readonly SourceNote[] }): void {
  const name = (file: string | undefined): string => (!file || file === abs ? given : file);
  for (const b of summary.badLines) io.err(`${name(b.file)}:${b.line}: ${b.error}\n`);
  for (const n of summary.notes ?? []) io.err(`${name(n.file)}${n.line === undefined ? '' : `:${n.line}`}: note: ${n.message}\n`);
}

/** An error's message on one line (stderr lines are read one per problem). */
export function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
}
