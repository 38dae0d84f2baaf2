#!/usr/bin/env node
console.log("tracee-ds: the command-line interface is not built yet");
