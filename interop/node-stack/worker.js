'use strict';
// worker.js: the seeds' `worker-email`, as their Node team wrote it (bull, mysql2, nodemailer).
// One job at a time from the queue; a job {jobUuid} sends the campaign's PENDING recipients
// over SMTP, WORKER_CONCURRENCY (5) messages in flight, and counts them on the EmailJob row.
//
// It writes only the columns the seeds' schema knows (EmailJob: status, sentEmails,
// failedEmails, completedAt; Recipient: status, error), never Paloma's own.
// Prints one JSON line per job it processed on stdout: {"jobUuid","sent","failed"} when the job
// completed, {"jobUuid","error","attemptsMade"} when it failed (bull retries it while attempts
// remain). WORKER_EXIT_AFTER=<n>: exit 0 after n such jobs.
// Env: DATABASE_URL, REDIS_URL, QUEUE_PREFIX, QUEUE_NAME, SMTP_HOST (127.0.0.1),
// SMTP_PORT (1025), MAIL_FROM, WORKER_CONCURRENCY (5), WORKER_EXIT_AFTER.
const nodemailer = require('nodemailer');
const { openPool, openQueue, onShutdown, exitOnUnhandled } = require('./common');

const concurrency = Number(process.env.WORKER_CONCURRENCY || 5);
const exitAfter = Number(process.env.WORKER_EXIT_AFTER || 0);
if (!(Number.isInteger(concurrency) && concurrency >= 1 && Number.isInteger(exitAfter)
  && exitAfter >= 0)) {
  console.error('WORKER_CONCURRENCY must be a positive integer, WORKER_EXIT_AFTER a natural one');
  process.exit(2);
}
const from = process.env.MAIL_FROM || 'Node worker <node-worker@localhost>';

const pool = openPool();
const queue = openQueue();
const transport = nodemailer.createTransport({
  host: process.env.SMTP_HOST || '127.0.0.1',
  port: Number(process.env.SMTP_PORT || 1025),
  secure: false,
  ignoreTLS: true, // no STARTTLS, no auth
  pool: true,
  maxConnections: concurrency,
});
transport.on('error', (err) => console.error('SMTP transport error:', err.message));

let interrupted = false; // set on SIGTERM/SIGINT: send nothing more, fail the job (bull retries it)

// Sends one message and records the outcome; true when sent.
async function deliver(job, recipient) {
  try {
    await transport.sendMail({ from, to: recipient.email, subject: job.subject, html: job.body });
  } catch (err) {
    await pool.query("UPDATE Recipient SET status = 'FAILED', error = ? WHERE id = ?",
      [String(err.message || err), recipient.id]);
    await pool.query('UPDATE EmailJob SET failedEmails = failedEmails + 1 WHERE id = ?', [job.id]);
    return false;
  }
  await pool.query("UPDATE Recipient SET status = 'SENT' WHERE id = ?", [recipient.id]);
  await pool.query('UPDATE EmailJob SET sentEmails = sentEmails + 1 WHERE id = ?', [job.id]);
  return true;
}

async function processCampaign(jobUuid) {
  const [jobs] = await pool.query('SELECT * FROM EmailJob WHERE id = ?', [jobUuid]);
  const job = jobs[0];
  if (!job) throw new Error('no EmailJob ' + jobUuid);
  if (job.status === 'COMPLETED' || job.status === 'FAILED') return { sent: 0, failed: 0 };

  await pool.query("UPDATE EmailJob SET status = 'PROCESSING' WHERE id = ?", [job.id]);
  const [recipients] = await pool.query(
    "SELECT id, email FROM Recipient WHERE emailJobId = ? AND status = 'PENDING'", [job.id]);

  // `concurrency` lanes take the next recipient until none is left; the first error stops
  // them all (after the messages in flight) and fails the job.
  let next = 0;
  let sent = 0;
  let failed = 0;
  let firstError = null;
  const lane = async () => {
    while (next < recipients.length && !firstError && !interrupted) {
      const recipient = recipients[next];
      next += 1;
      try {
        if (await deliver(job, recipient)) sent += 1; else failed += 1;
      } catch (err) {
        firstError = firstError || err;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  if (firstError) throw firstError;
  if (interrupted) throw new Error('worker stopped before the campaign was done');

  await pool.query(
    "UPDATE EmailJob SET status = 'COMPLETED', completedAt = NOW(3) WHERE id = ?", [job.id]);
  return { sent, failed };
}

exitOnUnhandled();

const shutdown = onShutdown(async (reason) => {
  if (reason !== 'WORKER_EXIT_AFTER') interrupted = true;
  await queue.close(); // fetches no more jobs; waits for the current one to finish
  transport.close();
  await pool.end();
});

let processed = 0;
const jobDone = (line) => {
  console.log(JSON.stringify(line));
  processed += 1;
  if (exitAfter && processed >= exitAfter) shutdown('WORKER_EXIT_AFTER');
};
queue.on('completed', (bullJob, result) => {
  jobDone({ jobUuid: bullJob.data.jobUuid, sent: result.sent, failed: result.failed });
});
queue.on('failed', (bullJob, err) => {
  const { jobUuid } = bullJob.data || {};
  console.error(`job ${bullJob.id} (${jobUuid}) failed:`, err && err.stack ? err.stack : err);
  jobDone({ jobUuid, error: String(err && err.message), attemptsMade: bullJob.attemptsMade });
});
queue.on('error', (err) => console.error('queue error:', err.message));

queue
  .process(1, async (bullJob) => {
    // The last job this worker takes: closing now keeps bull from fetching another one
    // when this one completes (close() waits for it).
    if (exitAfter && processed + 1 >= exitAfter) queue.close().catch(() => {}); // reported later
    const { jobUuid } = bullJob.data || {};
    if (typeof jobUuid !== 'string') throw new Error('job data has no jobUuid');
    return processCampaign(jobUuid);
  })
  .catch((err) => {
    console.error('queue.process failed:', err && err.stack ? err.stack : err);
    process.exit(1);
  });
