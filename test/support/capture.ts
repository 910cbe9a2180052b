/** A writable stream that keeps what is written, standing in for the CLI's stdout and stderr. */
import { Writable } from 'node:stream';

export class Capture extends Writable {
  text = '';
  /** Whether the stream says it is a terminal (progress bars, colour and prompts read it). */
  constructor(readonly isTTY = false) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}
