'use strict';
// produce.js <jobUuid> [optsJson]: adds {jobUuid} with default (or the given) options and
// prints the job id.
const { run } = require('./common');

const jobUuid = process.argv[2];
if (!jobUuid) {
  console.error('usage: produce.js <jobUuid> [optsJson]');
  process.exit(2);
}
const opts = process.argv[3] ? JSON.parse(process.argv[3]) : undefined;

run(async (queue) => {
  const job = await queue.add({ jobUuid }, opts);
  console.log(String(job.id));
});
