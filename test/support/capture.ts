/** A writable stream that keeps what is written, standing in for the CLI's stdout and stderr. */
import { Writable } from 'node:stream';

export class Capture extends Writable {
  text = '';
  /** How many writes it took (the JSON report comes in pieces). */
  writes = 0;
  /** Whether the stream says it is a terminal (progress bars, colour and prompts read it). */
  constructor(readonly isTTY = false) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    this.writes += 1;
    done();
  }
}
