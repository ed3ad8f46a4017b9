'use strict';
// consume.js [count]: processes `count` jobs (default 1) with a Node bull worker, printing one
// JSON line per job ({id, data, opts, attemptsMade}), completing each with a return value;
// then prints {"counts": getJobCounts()} and exits 0. Exits 1 after CONSUME_TIMEOUT_MS
// (default 20000) if not every job arrived.
const { run } = require('./common');

const count = Number(process.argv[2] || 1);
const timeoutMs = Number(process.env.CONSUME_TIMEOUT_MS || 20000);

run(async (queue) => {
  let seen = 0;
  let done;
  const allSeen = new Promise((resolve) => {
    done = resolve;
  });
  const completed = new Promise((resolve) => {
    let finished = 0;
    queue.on('completed', () => {
      finished += 1;
      if (finished === count) resolve();
    });
  });
  queue.process(async (job) => {
    console.log(JSON.stringify({
      id: String(job.id),
      name: job.name,
      data: job.data,
      opts: job.opts,
      attemptsMade: job.attemptsMade,
    }));
    seen += 1;
    if (seen === count) done();
    return { sent: true, jobUuid: job.data.jobUuid };
  });
  await allSeen;
  await completed;
  console.log(JSON.stringify({ counts: await queue.getJobCounts() }));
}, timeoutMs);
