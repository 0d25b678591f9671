// Starts an S3-compatible server for the tests on 127.0.0.1.
// Usage: node s3rver.mjs [--port N] [--directory DIR] [--bucket NAME]
// (or S3RVER_PORT, S3RVER_DIRECTORY, S3RVER_BUCKET). Port 0 picks a free port.
// Prints "S3RVER_READY <port>" once listening. Credentials are fixed by S3rver: S3RVER / S3RVER.
import { fstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import S3rver from '@20minutes/s3rver';

// AWS decodes x-amz-copy-source in full; S3rver's decodeURI leaves %2F, so a CopyObject from AWSSDK.S3 4, which encodes
// every slash of "bucket/key", would find no such bucket. Decoded here, once S3rver has checked the request's signature.
const objectController = createRequire(import.meta.url)('@20minutes/s3rver/lib/controllers/object');
const putObjectCopy = objectController.putObjectCopy;
objectController.putObjectCopy = (ctx) => {
  ctx.headers['x-amz-copy-source'] = decodeURIComponent(ctx.headers['x-amz-copy-source']);
  return putObjectCopy(ctx);
};

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.S3RVER_PORT ?? '0' },
    directory: { type: 'string', default: process.env.S3RVER_DIRECTORY },
    bucket: { type: 'string', default: process.env.S3RVER_BUCKET ?? 'test-bucket' },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`s3rver.mjs: invalid port '${values.port}'`);
  process.exit(2);
}
let directory = values.directory;
if (directory === undefined) {
  const ownDirectory = mkdtempSync(join(tmpdir(), 's3rver-'));
  process.on('exit', () => rmSync(ownDirectory, { recursive: true, force: true }));
  directory = ownDirectory;
}

// Exiting at once rather than awaiting server.close(): close() waits for idle keep-alive
// connections, and the data directory is throwaway anyway.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => process.exit(0));
}

// The parent holds our stdin pipe: when it closes (the parent exited or died), so do we.
// Only for a pipe or socket, so that running it by hand with stdin at /dev/null still works.
const stdin = fstatSync(0);
if (stdin.isFIFO() || stdin.isSocket()) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
}

const server = new S3rver({
  address: '127.0.0.1',
  port,
  directory,
  vhostBuckets: false,
  configureBuckets: [{ name: values.bucket }],
});

try {
  const address = await server.run();
  console.log(`S3RVER_READY ${address.port}`);
} catch (error) {
  console.error(`s3rver.mjs: failed to start: ${error?.stack ?? error}`);
  process.exit(1);
}
