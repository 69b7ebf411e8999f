/**
 * The judge benchmark's loopback server in a process of its own, as a real OpenAI-compatible
 * server is: its CPU is not charged to the judge being measured. Prints its base URL as one
 * line, then serves until stdin closes (the parent ends).
 */
import { startFixedLatencyServer } from './judge';

void startFixedLatencyServer(Number(process.argv[2] ?? 500)).then((server) => {
  process.stdout.write(`${server.url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
});
