// Reads one or more vitest JSON reports and prints the one line CI reads, their sum:
// `tests: N passed, M failed`. A missing or unreadable report (vitest crashed before writing
// it) counts as one failure, and so does a report that ran no test.
import { readFileSync } from 'node:fs';

const files = process.argv.length > 2 ? process.argv.slice(2) : ['.ci/out/vitest.json'];
let passed = 0;
let failed = 0;
for (const file of files) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    // A test file that failed without a failed test (an import error, a crash in beforeAll)
    // counts once. (numFailedTestSuites also counts the describe blocks around a failed test.)
    for (const file of report.testResults) {
      if (file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed')) failed += 1;
    }
    if (report.numTotalTests === 0) failed += 1;
  } catch (error) {
    process.stderr.write(`cannot read the vitest report ${file}: ${error.message}\n`);
    failed += 1;
  }
}
process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
