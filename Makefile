# rs2p build, test, demo and install entry points (GNU make). Everything make produces goes
# under build/; cargo keeps its own target/ directory.
#
#   make / make build      cargo build --release, and stage the shared library under build/lib
#   make test              Rust, C and C++, install, Python, Node, interop (py2p, js2p), demo
#   make demo              the demos: codecs in C, Python, Node; then a network of C, Python,
#                          Node and py2p nodes exchanging messages, then sharing a sync table
#   make bench             mesh throughput and latency, sync table spread time, rs2p beside
#                          py2p (not part of make test)
#   make sim               the simulator's tables and charts (build/sim)
#   make header            regenerate include/rs2p.h from src/ffi
#   make install PREFIX=…  library, header and pkg-config file (DESTDIR supported)
#   make clean

.DEFAULT_GOAL := build
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DELETE_ON_ERROR:

CARGO ?= cargo
CC ?= cc
CXX ?= g++
PREFIX ?= /usr/local

BUILD_DIR := build
STAGE_DIR := $(BUILD_DIR)/lib
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
RELEASE_DIR := $(TARGET_DIR)/release

VERSION := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
SO_LINK := librs2p.so
SO_NAME := librs2p.so.$(MAJOR)
SO_FILE := librs2p.so.$(VERSION)
# System libraries the static library needs (rustc --print native-static-libs, Linux glibc).
LIBS_PRIVATE := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

WARNINGS := -Wall -Wextra -Werror -pedantic
C_TEST_FLAGS := -std=c11 $(WARNINGS)
CXX_TEST_FLAGS := -x c++ -std=c++17 $(WARNINGS)
# Link against the staged shared library and find it at run time without installing.
LINK_STAGED := -L$(STAGE_DIR) -lrs2p -Wl,-rpath,$(abspath $(STAGE_DIR))

# The wrappers' scripts load this file (the bindings look at RS2P_LIBRARY first).
export RS2P_LIBRARY := $(abspath $(RELEASE_DIR)/$(SO_LINK))

.PHONY: build header examples test test-rust test-c test-install test-python test-node test-interop demo bench sim install clean

build:
	$(CARGO) build --release
	@mkdir -p $(STAGE_DIR)
	@cp -f $(RELEASE_DIR)/$(SO_LINK) $(STAGE_DIR)/$(SO_FILE)
	@ln -sfn $(SO_FILE) $(STAGE_DIR)/$(SO_NAME)
	@ln -sfn $(SO_NAME) $(STAGE_DIR)/$(SO_LINK)

header:
	RS2P_WRITE_HEADER=1 $(CARGO) test --release --test header_drift

EXAMPLES := $(BUILD_DIR)/examples/chat $(BUILD_DIR)/examples/demo_node

# The C examples (chat, demo_node) under build/examples.
examples: $(EXAMPLES)

$(BUILD_DIR)/examples/%: examples/%.c include/rs2p.h build
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARNINGS) -Iinclude $< -o $@ $(LINK_STAGED) -lpthread

test: build examples
	$(MAKE) --no-print-directory test-rust
	$(MAKE) --no-print-directory test-c
	$(MAKE) --no-print-directory test-install
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory test-node
	$(MAKE) --no-print-directory test-interop
	$(MAKE) --no-print-directory test-demo

test-rust:
	$(CARGO) test --release

$(BUILD_DIR)/test_codec_c: tests/c/test_codec.c tests/c/check.h tests/c/vectors.h include/rs2p.h build
	$(CC) $(C_TEST_FLAGS) -Iinclude -Itests/c $< -o $@ $(LINK_STAGED)

$(BUILD_DIR)/test_codec_cpp: tests/c/test_codec.c tests/c/check.h tests/c/vectors.h include/rs2p.h build
	$(CXX) $(CXX_TEST_FLAGS) -Iinclude -Itests/c $< -x none -o $@ $(LINK_STAGED)

$(BUILD_DIR)/test_mesh_c: tests/c/test_mesh.c tests/c/check.h include/rs2p.h build
	$(CC) $(C_TEST_FLAGS) -Iinclude $< -o $@ $(LINK_STAGED) -lpthread

$(BUILD_DIR)/test_mesh_cpp: tests/c/test_mesh.c tests/c/check.h include/rs2p.h build
	$(CXX) $(CXX_TEST_FLAGS) -Iinclude $< -x none -o $@ $(LINK_STAGED) -lpthread

$(BUILD_DIR)/test_sync_c: tests/c/test_sync.c tests/c/check.h include/rs2p.h build
	$(CC) $(C_TEST_FLAGS) -Iinclude $< -o $@ $(LINK_STAGED) -lpthread

$(BUILD_DIR)/test_sync_cpp: tests/c/test_sync.c tests/c/check.h include/rs2p.h build
	$(CXX) $(CXX_TEST_FLAGS) -Iinclude $< -x none -o $@ $(LINK_STAGED) -lpthread

$(BUILD_DIR)/test_chord_c: tests/c/test_chord.c tests/c/check.h include/rs2p.h build
	$(CC) $(C_TEST_FLAGS) -Iinclude $< -o $@ $(LINK_STAGED) -lpthread

$(BUILD_DIR)/test_chord_cpp: tests/c/test_chord.c tests/c/check.h include/rs2p.h build
	$(CXX) $(CXX_TEST_FLAGS) -Iinclude $< -x none -o $@ $(LINK_STAGED) -lpthread

# The chord C tests (extra prerequisites of test-c; run at the end of each language's list).
test-c: $(BUILD_DIR)/test_chord_c $(BUILD_DIR)/test_chord_cpp

test-c: $(BUILD_DIR)/test_codec_c $(BUILD_DIR)/test_codec_cpp $(BUILD_DIR)/test_mesh_c $(BUILD_DIR)/test_mesh_cpp \
        $(BUILD_DIR)/test_sync_c $(BUILD_DIR)/test_sync_cpp
	@echo "== C tests (C11)"
	$(BUILD_DIR)/test_codec_c
	$(BUILD_DIR)/test_mesh_c
	$(BUILD_DIR)/test_sync_c
	$(BUILD_DIR)/test_chord_c
	@echo "== C tests (C++17)"
	$(BUILD_DIR)/test_codec_cpp
	$(BUILD_DIR)/test_mesh_cpp
	$(BUILD_DIR)/test_sync_cpp
	$(BUILD_DIR)/test_chord_cpp

test-install: build
	scripts/test-install.sh

test-python:
	@if [ -f scripts/test-python.sh ]; then bash scripts/test-python.sh; \
	else echo "== Python tests: scripts/test-python.sh is not in this tree yet; none run"; fi

# rs2p against the reference nodes (py2p 0.7.878 from PyPI, js2p 0.7.870 from npm), and the
# bad-input client; scripts/test-interop.sh installs both.
test-interop: build
	bash scripts/test-interop.sh

test-node:
	@if [ -f scripts/test-node.sh ]; then bash scripts/test-node.sh; \
	else echo "== Node tests: scripts/test-node.sh is not in this tree yet; none run"; fi

$(BUILD_DIR)/demo: examples/demo.c include/rs2p.h build
	$(CC) -std=c11 $(WARNINGS) -Iinclude $< -o $@ $(LINK_STAGED)

# The codec demos (protocol IDs, a reference frame decoded) in C, Python and Node, then the
# network demo: C, Python, Node and py2p nodes on 127.0.0.1 exchange one line each, then share
# one sync table, each writing its own key (scripts/demo.sh; the C node is
# build/examples/demo_node, from `examples`).
demo: build $(BUILD_DIR)/demo examples
	@echo "== Codec demo: C"
	$(BUILD_DIR)/demo
	@echo "== Codec demo: Python"
	bash scripts/demo-python.sh
	@echo "== Codec demo: Node"
	bash scripts/demo-node.sh
	bash scripts/demo.sh

# The network demo as a test: tests/demo checks that every node got the three other lines and
# that every node printed the same complete sync table.
.PHONY: test-demo
test-demo: build examples
	bash scripts/demo.sh --test

# Throughput and latency of rs2p (Rust and the Python wrapper) beside py2p, as one table
# (not part of `make test`; see docs/performance.md).
bench: build
	bash scripts/bench.sh

# The deterministic simulator at scales sockets cannot reach here (docs/simulator.md); tables on
# stdout, charts under build/sim/.
sim:
	$(CARGO) run --release --bin rs2p-sim -- --out $(BUILD_DIR)/sim

install: build
	$(eval INSTALL_PREFIX := $(abspath $(PREFIX)))
	$(eval LIB_DIR := $(DESTDIR)$(INSTALL_PREFIX)/lib)
	install -d "$(LIB_DIR)/pkgconfig" "$(DESTDIR)$(INSTALL_PREFIX)/include"
	install -m 0755 $(RELEASE_DIR)/$(SO_LINK) "$(LIB_DIR)/$(SO_FILE)"
	ln -sfn $(SO_FILE) "$(LIB_DIR)/$(SO_NAME)"
	ln -sfn $(SO_NAME) "$(LIB_DIR)/$(SO_LINK)"
	install -m 0644 $(RELEASE_DIR)/librs2p.a "$(LIB_DIR)/librs2p.a"
	install -m 0644 include/rs2p.h "$(DESTDIR)$(INSTALL_PREFIX)/include/rs2p.h"
	sed -e 's|@PREFIX@|$(INSTALL_PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|g' rs2p.pc.in > "$(LIB_DIR)/pkgconfig/rs2p.pc"

clean:
	$(CARGO) clean
	rm -rf $(BUILD_DIR)
