'use strict';
// api.js: the seeds' Express API, as their Node team wrote it (Express, mysql2, bull).
//
//   POST /api/emails      {subject, body, recipients: ["a@x.org" | {email, name?}]}
//                         -> 202 {id, jobId, status: 'PENDING', totalEmails}
//   GET  /api/emails/:id  -> 200 the EmailJob row, or 404
//
// It writes only the columns the seeds' schema knows (EmailJob: id, subject, body, totalEmails;
// Recipient: id, email, emailJobId; a recipient's `name` is accepted and dropped): the database
// defaults fill in the rest, which is what the interop tests check on Paloma's schema.
// Prints `listening <port>` on stdout once it listens.
// Env: DATABASE_URL, REDIS_URL, QUEUE_PREFIX, QUEUE_NAME, PORT (3000; 0 = any free port).
const crypto = require('crypto');
const express = require('express');
const { openPool, openQueue, onShutdown, exitOnUnhandled } = require('./common');

const INSERT_BATCH = 1000; // recipients per multi-row INSERT

const pool = openPool();
const queue = openQueue();
const app = express();
app.use(express.json({ limit: '200mb' })); // room for 1,000,000 recipients

class ValidationError extends Error {}

const isText = (value) => typeof value === 'string' && value.trim() !== '';
const isEmail = (value) => typeof value === 'string' && value.includes('@');

// The campaign from a request body, or throws a ValidationError.
function parseCampaign(input) {
  const { subject, body, recipients } = input || {};
  if (!isText(subject)) throw new ValidationError('subject must be a non-empty string');
  if (!isText(body)) throw new ValidationError('body must be a non-empty string');
  if (!Array.isArray(recipients) || recipients.length === 0) {
    throw new ValidationError('recipients must be a non-empty array');
  }
  const emails = recipients.map((r, i) => {
    const email = r !== null && typeof r === 'object' ? r.email : r;
    if (!isEmail(email)) throw new ValidationError(`recipients[${i}] has no valid email`);
    return email;
  });
  return { subject, body, emails };
}

// Express 4 does not catch rejected promises: hand them to the error handler.
const route = (fn) => (req, res, next) => fn(req, res).catch(next);

app.post('/api/emails', route(async (req, res) => {
  const { subject, body, emails } = parseCampaign(req.body);
  const id = crypto.randomUUID();
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    await conn.query(
      'INSERT INTO EmailJob (id, subject, body, totalEmails) VALUES (?, ?, ?, ?)',
      [id, subject, body, emails.length],
    );
    for (let start = 0; start < emails.length; start += INSERT_BATCH) {
      const rows = emails
        .slice(start, start + INSERT_BATCH)
        .map((email) => [crypto.randomUUID(), email, id]);
      await conn.query('INSERT INTO Recipient (id, email, emailJobId) VALUES ?', [rows]);
    }
    await conn.commit();
  } catch (err) {
    await conn.rollback().catch(() => {}); // the original error is the one worth reporting
    throw err;
  } finally {
    conn.release();
  }
  await queue.add(
    { jobUuid: id },
    { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: false },
  );
  res.status(202).json({ id, jobId: id, status: 'PENDING', totalEmails: emails.length });
}));

app.get('/api/emails/:id', route(async (req, res) => {
  const [rows] = await pool.query('SELECT * FROM EmailJob WHERE id = ?', [req.params.id]);
  if (rows.length === 0) {
    res.status(404).json({ error: { code: 'NOT_FOUND' } });
    return;
  }
  res.json(rows[0]);
}));

// Errors: the client's are 4xx with a message (body-parser's own, such as malformed JSON or a
// body over the limit, keep their status); anything else is logged and answered 500 without
// internal details. (Express knows an error handler by its four parameters.)
app.use((err, req, res, _next) => {
  if (err instanceof ValidationError) {
    res.status(400).json({ error: { code: 'VALIDATION_FAILED', message: err.message } });
  } else if (err.expose && err.status >= 400 && err.status < 500) {
    const code = err.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_FAILED';
    res.status(err.status).json({ error: { code, message: err.message } });
  } else {
    console.error(`${req.method} ${req.originalUrl}:`, err && err.stack ? err.stack : err);
    res.status(500).json({ error: { code: 'INTERNAL' } });
  }
});

exitOnUnhandled();
queue.on('error', (err) => console.error('queue error:', err.message));

async function main() {
  // Fail at start-up, not on the first request, when MySQL or Redis is unreachable.
  await pool.query('SELECT 1');
  await queue.isReady();
  const server = app.listen(Number(process.env.PORT || 3000), () => {
    console.log(`listening ${server.address().port}`);
  });
  server.on('error', (err) => {
    console.error('server error:', err.message);
    process.exit(1);
  });
  onShutdown(async () => {
    await new Promise((resolve) => {
      server.close(resolve); // stops accepting; waits for requests in progress
      server.closeIdleConnections(); // and drops idle keep-alive connections
    });
    await queue.close();
    await pool.end();
  });
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
