#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry for programs that keep their own main(): SwiftPM names an executable's
// entry point TARGET_main, so each fuzz target defines that and hands control to libFuzzer.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
