'use strict';
// inspect.js <jobId>: prints Node bull's view of a job as one JSON line: state, data, opts,
// attemptsMade, failedReason, stacktrace, returnvalue, timestamps, the result of
// job.finished() (waiting up to FINISHED_TIMEOUT_MS, default 10000, when asked with
// WAIT_FINISHED=1) and the queue's job counts.
const { run } = require('./common');

const jobId = process.argv[2];
if (!jobId) {
  console.error('usage: inspect.js <jobId>');
  process.exit(2);
}
const finishedTimeoutMs = Number(process.env.FINISHED_TIMEOUT_MS || 10000);

run(async (queue) => {
  const job = await queue.getJob(jobId);
  if (!job) {
    console.log(JSON.stringify({ found: false, counts: await queue.getJobCounts() }));
    return;
  }
  let finished;
  if (process.env.WAIT_FINISHED === '1') {
    finished = await Promise.race([
      job.finished().then(
        (value) => ({ ok: true, value: value === undefined ? null : value }),
        (err) => ({ ok: false, error: String(err && err.message ? err.message : err) }),
      ),
      new Promise((resolve) => setTimeout(() => resolve({ timeout: true }), finishedTimeoutMs)),
    ]);
  }
  console.log(JSON.stringify({
    found: true,
    id: String(job.id),
    name: job.name,
    state: await job.getState(),
    data: job.data,
    opts: job.opts,
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason === undefined ? null : job.failedReason,
    stacktrace: job.stacktrace,
    returnvalue: job.returnvalue === undefined ? null : job.returnvalue,
    timestamp: job.timestamp,
    processedOn: job.processedOn === undefined ? null : job.processedOn,
    finishedOn: job.finishedOn === undefined ? null : job.finishedOn,
    finished,
    counts: await queue.getJobCounts(),
  }));
}, finishedTimeoutMs + 10000);
