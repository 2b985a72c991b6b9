// Declarations only: libFuzzer (linked with -sanitize=fuzzer) defines LLVMFuzzerRunDriver.
