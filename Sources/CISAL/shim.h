// Intel ISA-L's inflate (libisal-dev): about twice zlib's speed on layer-sized gzip streams
// (bench/inflate.c measures both). Used for gzip layers; see Sources/ResidueArchive/GzipSource.swift.
#include <isa-l/igzip_lib.h>
