#!/usr/bin/env python3
"""Copies the benchmark OCI layout with every layer decompressed (plain tar): the same bytes
for the detector to read with no inflate cost.   bench/plain_copy.py SRC_LAYOUT DST_LAYOUT"""
import hashlib
import json
import os
import shutil
import sys
import zlib

src, dst = sys.argv[1], sys.argv[2]
blobs = os.path.join(dst, "blobs", "sha256")
if os.path.exists(dst):
    shutil.rmtree(dst)
os.makedirs(blobs)


def read_blob(digest):
    with open(os.path.join(src, "blobs", "sha256", digest.split(":")[1]), "rb") as handle:
        return handle.read()


def write_blob(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as handle:
        handle.write(data)
    return "sha256:" + digest, len(data)


index = json.load(open(os.path.join(src, "index.json")))
entry = index["manifests"][0]
manifest = json.loads(read_blob(entry["digest"]))
layers = []
for layer in manifest["layers"]:
    inflater = zlib.decompressobj(31)
    hasher = hashlib.sha256()
    tmp = os.path.join(dst, "layer.tmp")
    size = 0
    with open(os.path.join(src, "blobs", "sha256", layer["digest"].split(":")[1]), "rb") as packed, open(tmp, "wb") as out:
        while chunk := packed.read(1 << 20):
            data = inflater.decompress(chunk)
            hasher.update(data)
            out.write(data)
            size += len(data)
    digest = hasher.hexdigest()
    os.replace(tmp, os.path.join(blobs, digest))
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + digest, "size": size})
config_digest, config_size = write_blob(read_blob(manifest["config"]["digest"]))
manifest["layers"] = layers
manifest["config"]["digest"], manifest["config"]["size"] = config_digest, config_size
manifest_digest, manifest_size = write_blob(json.dumps(manifest, separators=(",", ":")).encode())
entry = dict(entry, digest=manifest_digest, size=manifest_size)
json.dump(dict(index, manifests=[entry]), open(os.path.join(dst, "index.json"), "w"))
shutil.copy(os.path.join(src, "oci-layout"), os.path.join(dst, "oci-layout"))
shutil.copy(os.path.join(src, "planted.json"), os.path.join(dst, "planted.json"))
with open(os.path.join(dst, "layers.txt"), "w") as handle:
    for layer in layers:
        handle.write(f"blobs/sha256/{layer['digest'].split(':')[1]} {layer['size']}\n")
