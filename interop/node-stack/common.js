'use strict';
// Shared by the Node stack's api.js and worker.js: the MySQL pool (in UTC, as Paloma stores
// times), the bull queue (../common.js: REDIS_URL, QUEUE_PREFIX, QUEUE_NAME) and a clean exit
// on SIGTERM/SIGINT.
const mysql = require('mysql2/promise');
const { openQueue } = require('../common');

const DEFAULT_DATABASE_URL = 'mysql://root@127.0.0.1:3306/paloma';

// A mysql2 pool from DATABASE_URL (mysql://user:pass@host:port/db). Every new connection runs
// `SET time_zone = '+00:00'` before anything else (commands on a connection run in order), so
// DATETIME defaults and NOW(3) are UTC; `timezone: 'Z'` makes mysql2 read and write JS Dates
// as UTC too.
function openPool() {
  const pool = mysql.createPool({
    uri: process.env.DATABASE_URL || DEFAULT_DATABASE_URL,
    timezone: 'Z',
    connectionLimit: Number(process.env.DB_POOL_SIZE || 10),
  });
  // The event hands over mysql2's callback connection, not the promise wrapper.
  pool.on('connection', (conn) => {
    conn.query("SET time_zone = '+00:00'", (err) => {
      if (err) console.error('SET time_zone failed:', err.message);
    });
  });
  return pool;
}

// Calls `stop(reason)` once, on the first SIGTERM or SIGINT or when the returned function is
// called; exits 0 when it resolves, 1 when it rejects or takes longer than `timeoutMs`.
function onShutdown(stop, timeoutMs = 30000) {
  let stopping = false;
  const shutdown = (reason) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      console.error(`shutdown took longer than ${timeoutMs} ms`);
      process.exit(1);
    }, timeoutMs).unref();
    Promise.resolve()
      .then(() => stop(reason))
      .then(() => process.exit(0))
      .catch((err) => {
        console.error(err && err.stack ? err.stack : err);
        process.exit(1);
      });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return shutdown;
}

// A rejected promise nobody awaited is a bug: say so on stderr and exit 1 (never silently).
function exitOnUnhandled() {
  process.on('unhandledRejection', (err) => {
    console.error('unhandled rejection:', err && err.stack ? err.stack : err);
    process.exit(1);
  });
}

module.exports = { openPool, openQueue, onShutdown, exitOnUnhandled };
