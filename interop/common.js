'use strict';
// Shared set-up for the interop scripts: a bull queue from REDIS_URL, QUEUE_PREFIX, QUEUE_NAME.
const Queue = require('bull');

function openQueue() {
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const prefix = process.env.QUEUE_PREFIX || 'bull';
  const name = process.env.QUEUE_NAME || 'email-queue';
  return new Queue(name, url, { prefix });
}

// Runs `main(queue)`, closes the queue and exits 0; on error or after `timeoutMs`, exits 1.
function run(main, timeoutMs = 20000) {
  const queue = openQueue();
  const timer = setTimeout(() => {
    console.error(`timed out after ${timeoutMs} ms`);
    process.exit(1);
  }, timeoutMs);
  main(queue)
    .then(async () => {
      clearTimeout(timer);
      await queue.close();
      process.exit(0);
    })
    .catch((err) => {
      console.error(err && err.stack ? err.stack : err);
      process.exit(1);
    });
}

module.exports = { openQueue, run };
