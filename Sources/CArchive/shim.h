#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

// libarchive's AE_IF* constants are cast macros that Swift cannot import.
static inline int residue_entry_is_regular(struct archive_entry *e) { return archive_entry_filetype(e) == AE_IFREG; }
static inline int residue_entry_is_symlink(struct archive_entry *e) { return archive_entry_filetype(e) == AE_IFLNK; }
static inline int residue_entry_is_directory(struct archive_entry *e) { return archive_entry_filetype(e) == AE_IFDIR; }

// archive_set_error is variadic, which Swift cannot call.
static inline void residue_archive_set_error(struct archive *a, const char *message) {
    archive_set_error(a, -1, "%s", message);
}
