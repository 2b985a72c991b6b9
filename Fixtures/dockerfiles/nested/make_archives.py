#!/usr/bin/env python3
"""Write app.jar, config-bundle.tar.gz and release.tar.gz (which holds deploy.zip) from src/
into the folder given as argv[1]. Fixed mtimes, owners, modes and entry order: the bytes are
the same on every run (given the same zlib)."""
import gzip
import io
import os
import sys
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")


def files_under(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            out.append((os.path.relpath(full, root).replace(os.sep, "/"), full))
    return sorted(out)


def make_zip(root, extra=()):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel, full in list(files_under(root)) + list(extra):
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            with open(full, "rb") as f:
                zf.writestr(info, f.read())
    return buf.getvalue()


def make_tar_gz(entries):
    """entries: list of (name, bytes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tf.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), compresslevel=9, mtime=0)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main(out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "app.jar"), "wb") as f:
        f.write(make_zip(os.path.join(SRC, "app-jar")))
    bundle = [(rel, read(full)) for rel, full in files_under(os.path.join(SRC, "config-bundle"))]
    with open(os.path.join(out, "config-bundle.tar.gz"), "wb") as f:
        f.write(make_tar_gz(bundle))
    release = [("release/" + rel, read(full)) for rel, full in files_under(os.path.join(SRC, "release"))]
    release.append(("release/deploy.zip", make_zip(os.path.join(SRC, "deploy-zip"))))
    with open(os.path.join(out, "release.tar.gz"), "wb") as f:
        f.write(make_tar_gz(sorted(release)))


if __name__ == "__main__":
    main(sys.argv[1])
