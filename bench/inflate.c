/* The floor residue is measured against: read every layer given on the command line as plain
 * decompression would, and do nothing with the bytes. One thread. Prints the uncompressed bytes
 * read (tar data, without headers).
 *
 *   inflate LAYER…          libarchive alone (its gzip filter is zlib, as in `gzip -d`):
 *                           tar format only, every filter, 256 KiB read callback blocks,
 *                           archive_read_data into a 4 MiB buffer.
 *   inflate --isal LAYER…   the same, but gzip layers are inflated by ISA-L before libarchive
 *                           reads the tar, exactly as residue reads them (GzipSource.swift).
 *
 *   cc -O2 bench/inflate.c -o inflate -larchive -lisal */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct source {
    int fd;
    int gzip;             /* inflate with ISA-L */
    int ended, finished;  /* input at end of file; last gzip member done */
    struct inflate_state state;
    struct isal_gzip_header header; /* kept between reads, as GzipSource does (ISA-L 2.30 bug) */
    unsigned char in[256 * 1024];
    char block[256 * 1024];
};

static la_ssize_t fill_plain(struct archive *a, void *data, const void **buffer) {
    struct source *s = data;
    *buffer = s->block;
    return read(s->fd, s->block, sizeof s->block);
}

static int refill(struct source *s) {
    size_t kept = s->state.avail_in;
    memmove(s->in, s->state.next_in, kept);
    ssize_t n = read(s->fd, s->in + kept, sizeof s->in - kept);
    if (n < 0) return -1;
    if (n == 0) s->ended = 1;
    s->state.next_in = s->in;
    s->state.avail_in = kept + n;
    return 0;
}

static void start_member(struct source *s) {
    uint32_t avail = s->state.avail_in; uint8_t *next = s->state.next_in;
    isal_inflate_init(&s->state);
    s->state.crc_flag = ISAL_GZIP;
    s->state.next_in = next; s->state.avail_in = avail;
    isal_gzip_header_init(&s->header);
}

static la_ssize_t fill_isal(struct archive *a, void *data, const void **buffer) {
    struct source *s = data;
    *buffer = s->block;
    while (!s->finished) {
        if (s->state.avail_in == 0 && !s->ended && refill(s) < 0) return -1;
        if (!s->state.wrapper_flag) {
            int status = isal_read_gzip_header(&s->state, &s->header);
            if (status == ISAL_END_INPUT && !s->ended) continue;
            if (status != ISAL_DECOMP_OK) { archive_set_error(a, -1, "corrupt gzip header"); return -1; }
        }
        s->state.next_out = (unsigned char *)s->block;
        s->state.avail_out = sizeof s->block;
        if (isal_inflate(&s->state) < 0) { archive_set_error(a, -1, "corrupt gzip data"); return -1; }
        la_ssize_t produced = sizeof s->block - s->state.avail_out;
        if (s->state.block_state == ISAL_BLOCK_FINISH) {
            while (s->state.avail_in < 3 && !s->ended) if (refill(s) < 0) return -1;
            if (s->state.avail_in >= 3 && s->state.next_in[0] == 0x1f && s->state.next_in[1] == 0x8b) start_member(s);
            else s->finished = 1;
            if (produced > 0 || s->finished) return produced;
            continue;
        }
        if (produced > 0) return produced;
        if (s->state.avail_in == 0 && s->ended) { archive_set_error(a, -1, "truncated gzip data"); return -1; }
    }
    return 0;
}

int main(int argc, char **argv) {
    static char window[4 << 20];
    long long total = 0;
    int isal = argc > 1 && strcmp(argv[1], "--isal") == 0;
    for (int i = 1 + isal; i < argc; i++) {
        struct source *s = calloc(1, sizeof *s);
        if ((s->fd = open(argv[i], O_RDONLY)) < 0) { perror(argv[i]); return 2; }
        unsigned char magic[2] = {0};
        if (pread(s->fd, magic, 2, 0) < 0) { perror(argv[i]); return 2; }
        s->gzip = isal && magic[0] == 0x1f && magic[1] == 0x8b;
        if (s->gzip) start_member(s);
        struct archive *a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        if (archive_read_open(a, s, NULL, s->gzip ? fill_isal : fill_plain, NULL) != ARCHIVE_OK) { fprintf(stderr, "%s: %s\n", argv[i], archive_error_string(a)); return 2; }
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
