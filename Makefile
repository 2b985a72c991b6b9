# The two commands a newcomer needs (see README.md):
#   make demo   installs what is needed, builds residue, scans a bundled example image
#   make test   installs what is needed and runs every test
#   make bench  builds a large image from this machine's files and measures residue on it
.PHONY: demo test build release bench

build:
	./scripts/install-deps.sh
	swift build

release:
	./scripts/install-deps.sh
	swift build -c release

demo: release
	@echo
	@echo '$$ residue scan Fixtures/images/legacy.docker.tar'
	@# Exit 1 means "secrets found", which is what the demo shows; 2 (cannot scan) fails.
	@.build/release/residue scan Fixtures/images/legacy.docker.tar || [ $$? -eq 1 ]

test:
	./scripts/install-deps.sh --test
	swift build --build-tests
	swift test --skip-build

bench:
	./scripts/bench.sh
