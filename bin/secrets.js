#!/usr/bin/env node
// The published entry point: the build (`npm run build`, run by `prepare`) puts the
// compiled program in dist/.
import "../dist/bin.js"
