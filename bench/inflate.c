/* The floor residue is measured against: read every layer given on the command line through
 * libarchive exactly as residue does (tar format only, every filter, 256 KiB read callback
 * blocks, archive_read_data into a 4 MiB buffer) and do nothing with the bytes. One thread.
 * Prints the uncompressed bytes read.   cc -O2 bench/inflate.c -o inflate -larchive */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct source { int fd; char block[256 * 1024]; };

static la_ssize_t fill(struct archive *a, void *data, const void **buffer) {
    struct source *s = data;
    *buffer = s->block;
    return read(s->fd, s->block, sizeof s->block);
}

int main(int argc, char **argv) {
    static char window[4 << 20];
    long long total = 0;
    for (int i = 1; i < argc; i++) {
        struct source *s = malloc(sizeof *s);
        if ((s->fd = open(argv[i], O_RDONLY)) < 0) { perror(argv[i]); return 2; }
        struct archive *a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        if (archive_read_open(a, s, NULL, fill, NULL) != ARCHIVE_OK) { fprintf(stderr, "%s: %s\n", argv[i], archive_error_string(a)); return 2; }
        struct archive_entry *entry;
        int status;
        while ((status = archive_read_next_header(a, &entry)) == ARCHIVE_OK || status == ARCHIVE_WARN) {
            la_ssize_t n;
            while ((n = archive_read_data(a, window, sizeof window)) > 0) total += n;
            if (n < 0) { fprintf(stderr, "%s: %s\n", argv[i], archive_error_string(a)); return 2; }
        }
        if (status != ARCHIVE_EOF) { fprintf(stderr, "%s: %s\n", argv[i], archive_error_string(a)); return 2; }
        archive_read_free(a);
        close(s->fd);
        free(s);
    }
    printf("%lld\n", total);
    return 0;
}
