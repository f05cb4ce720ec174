# SPDX-License-Identifier: GPL-2.0-or-later
#
# The nv-vgpu fork: upstream QEMU 10.0.x plus this overlay.
#
#   make demo    everything from a fresh Debian bookworm machine to the demo
#   make check   everything from a fresh Debian bookworm machine to all tests
#
# Steps, each incremental: deps -> qemu-src -> graft -> configure -> build
# (with firmware) -> nvsim (the simulated vGPU driver and its kernel).

BUILD      := build
PRISTINE   := $(if $(QEMU_SRC),$(QEMU_SRC),$(BUILD)/upstream)
TREE       := $(BUILD)/qemu
# SANITIZE=1: QEMU with AddressSanitizer and UBSan, in a build directory of
# its own, for the tests (the test host itself still boots the plain one).
QBUILD     := $(BUILD)/qemu-build$(if $(filter 1,$(SANITIZE)),-san)
QEMU       := $(QBUILD)/qemu-system-x86_64
# The operator's command that removes vGPUs left behind by killed QEMUs.
VGPU_REAP  := tools/vgpu/nv-vgpu-reap
NINJA_JOBS ?= $(shell nproc)

# Only what the fork needs: one target, KVM/TCG, VNC (+JPEG), PNG for
# screendump (libvirt's `virsh screenshot` asks for it), pixman, OpenGL
# with GBM for the GL console path, virtfs for the test host, and libnuma
# for guest memory bound to host nodes (which nv-vgpu checks against the
# vGPU's node).
CONFIGURE_FLAGS := \
	--target-list=x86_64-softmmu \
	--without-default-features \
	--python=/usr/bin/python3 \
	--disable-download \
	--disable-docs --disable-install-blobs --enable-werror \
	--enable-kvm --enable-tcg \
	--enable-vnc --enable-vnc-jpeg --enable-png --enable-pixman \
	--enable-opengl \
	--enable-virtfs --enable-attr --enable-cap-ng --enable-numa
ifeq ($(SANITIZE),1)
CONFIGURE_FLAGS += --enable-asan --enable-ubsan
# Reports abort the process, so that a test fails on the first one.
# LeakSanitizer is off: QEMU leaves its objects to exit on purpose.
export ASAN_OPTIONS := halt_on_error=1:abort_on_error=1:detect_leaks=0
export UBSAN_OPTIONS := halt_on_error=1:abort_on_error=1:print_stacktrace=1
endif

# ccache is one of the packages `deps` installs, so it is looked for when
# configure runs (after deps), not when make reads this file: a fresh
# machine must not configure once without it and again with it.
CCACHE_FLAG = $$(command -v ccache >/dev/null && echo "--cc=ccache cc")

.PHONY: all deps qemu-src graft configure build plain-build firmware nvsim vnc-client check check-host check-fuzz check-vgpu-host check-vgpu-sriov check-libvirt fuzz demo bench clean distclean

all: build

# Installs packages: needs root.  Skipped (with a note) when not root but
# everything is already there, so `make check` works for normal users too.
deps:
	@if [ "$$(id -u)" = 0 ]; then sh fork/deps.sh; \
	else echo "make deps: not root; assuming the build dependencies are installed"; fi

qemu-src: deps
	@sh fork/qemu-src.sh $(BUILD)/upstream

graft: qemu-src
	@sh fork/graft.sh $(PRISTINE) $(TREE)

# Reconfigure from scratch only when the flags or the upstream version
# change; ninja itself re-runs meson when a meson.build changes.
configure: graft
	@cc="$(CCACHE_FLAG)"; \
	want="$(CONFIGURE_FLAGS) $$cc $$(cat $(TREE)/VERSION)"; \
	if [ "$$(cat $(QBUILD)/.configured 2>/dev/null)" != "$$want" ]; then \
		rm -rf $(QBUILD) && mkdir -p $(QBUILD) && \
		echo "configure: $(CONFIGURE_FLAGS) $$cc" && \
		(cd $(QBUILD) && ../qemu/configure $(CONFIGURE_FLAGS) $${cc:+"$$cc"} > configure.log 2>&1) || \
		{ tail -n 30 $(QBUILD)/configure.log; echo "configure failed: see $(QBUILD)/configure.log"; exit 1; }; \
		echo "$$want" > $(QBUILD)/.configured; \
	fi

build: configure
	@start=$$(date +%s); \
	ninja -C $(QBUILD) -j $(NINJA_JOBS) qemu-system-x86_64 $(VGPU_REAP) > $(QBUILD)/ninja.log 2>&1 || \
		{ grep -A20 -m3 '^FAILED' $(QBUILD)/ninja.log | head -80; exit 1; }; \
	echo "build: $(QEMU) ready ($$(( $$(date +%s) - start )) s of ninja)"
	@$(MAKE) --no-print-directory firmware

# The +ds source has no firmware blobs.  QEMU run from the build tree looks
# for them in qemu-bundle/: link bookworm's SeaBIOS and iPXE there, and build
# the x86 option ROMs that -kernel needs (linuxboot_dma.bin, kvmvapic.bin).
FWDIR := $(QBUILD)/qemu-bundle/usr/local/share/qemu
firmware:
	@[ -f $(QBUILD)/pc-bios/optionrom/config.mak ] || \
		{ echo "firmware: configure found no 32-bit x86 compiler (install gcc-multilib)"; exit 1; }
	@$(MAKE) --no-print-directory -s -C $(QBUILD)/pc-bios/optionrom \
		> $(QBUILD)/optionrom.log 2>&1 || { cat $(QBUILD)/optionrom.log; exit 1; }
	@mkdir -p $(FWDIR)
	@for f in /usr/share/seabios/*.bin /usr/lib/ipxe/qemu/*.rom \
		  $(CURDIR)/$(QBUILD)/pc-bios/optionrom/*.bin; do \
		ln -sf $$f $(FWDIR)/; \
	done

# Host tests: our unit tests and qtests, plus upstream's device-introspect
# and qom tests that every new device type must keep passing.
UNIT_TESTS := test-vgpu-profile test-vgpu-mdev test-vgpu-sriov
QTESTS     := nv-vgpu-test nv-vgpu-display-test nv-vgpu-migration-test \
              device-introspect-test qom-test

check-host: build
	@ninja -C $(QBUILD) -j $(NINJA_JOBS) $(UNIT_TESTS:%=tests/unit/%) \
		$(QTESTS:%=tests/qtest/%) > $(QBUILD)/ninja-tests.log 2>&1 || \
		{ grep -A20 -m3 '^FAILED' $(QBUILD)/ninja-tests.log | head -80; exit 1; }
	@sh fork/run-tests.sh $(QBUILD) host $(UNIT_TESTS) $(QTESTS:%=qtest-x86_64/%)
	@# the fuzz targets carry their own sanitizers and link the plain build
	@$(if $(filter 1,$(SANITIZE)),:,$(MAKE) $(FUZZ_ARGS) check)

# libFuzzer targets for the parsers of untrusted input (tests/fuzz):
# `make fuzz` runs each for FUZZ_RUNS executions; make check-host a short
# run of each, counted on its own closing line "fuzz: ...".
FUZZ_RUNS ?= 1000000
FUZZ_ARGS = --no-print-directory -s -j $(NINJA_JOBS) -C tests/fuzz OUT=$(CURDIR)/$(BUILD)/fuzz \
	QTREE=$(CURDIR)/$(TREE) QBUILD=$(CURDIR)/$(QBUILD)
fuzz: build
	@$(MAKE) $(FUZZ_ARGS) run RUNS=$(FUZZ_RUNS)

check-fuzz: build
	@$(MAKE) $(FUZZ_ARGS) check

# Test-host tests: the simulated vGPU driver and nv-vgpu against real
# kernel VFIO, in a 6.12 kernel booted by our QEMU (tests/vgpu-host).
nvsim: build
	@sh tests/vgpu-host/fetch-kernel.sh $(BUILD)/vgpu-host/kernel
	@$(MAKE) --no-print-directory -s -C kernel/nvsim > $(BUILD)/nvsim-build.log 2>&1 || \
		{ cat $(BUILD)/nvsim-build.log; exit 1; }

# A VNC viewer without a window (libvncclient), for console tests and bench.
vnc-client:
	@$(MAKE) --no-print-directory -s -C tests/vnc OUT=$(CURDIR)/$(BUILD)/vnc

VGPU_HOST_QTESTS := nv-vgpu-test nv-vgpu-display-test nv-vgpu-migration-test

# With SANITIZE=1 the tests run the sanitized QEMU, the test host the plain.
plain-build:
	@$(MAKE) --no-print-directory build SANITIZE=

check-vgpu-host: build nvsim vnc-client $(if $(filter 1,$(SANITIZE)),plain-build)
	@ninja -C $(QBUILD) $(VGPU_HOST_QTESTS:%=tests/qtest/%) $(VGPU_REAP) > /dev/null
	@VGPU_HOST_STRICT_DMESG=1 VGPU_VNC_CLIENT=$(CURDIR)/$(BUILD)/vnc/vgpu-vnc-client \
		tests/vgpu-host/run sh fork/vgpu-host-tests.sh $(QBUILD) \
		$(VGPU_HOST_QTESTS:%=qtest-x86_64/%)

# The simulated SR-IOV GPU (hw/misc/nvsim-sriov-gpu.c) in a test host of
# its own in SR-IOV mode: q35, the emulated IOMMU (tests/vgpu-host/README.md).
# Only the tests load our modules, so that the smoke test sees the bare GPU;
# then nvsim drives it (its VF front: kernel/nvsim/nvsim-sriov.c).
SRIOV_RESULTS := $(BUILD)/vgpu-sriov/results
check-vgpu-sriov: build nvsim vnc-client $(if $(filter 1,$(SANITIZE)),plain-build)
	@mkdir -p $(SRIOV_RESULTS)
	@ninja -C $(QBUILD) tests/qtest/nv-vgpu-sriov-test $(VGPU_REAP) > /dev/null
	@VGPU_HOST_SRIOV=1 VGPU_HOST_STRICT_DMESG=1 VGPU_HOST_MODULES= \
		VGPU_HOST_RESULTS=$(SRIOV_RESULTS) \
		VGPU_VNC_CLIENT=$(CURDIR)/$(BUILD)/vnc/vgpu-vnc-client \
		tests/vgpu-host/run sh fork/vgpu-sriov-tests.sh $(QBUILD)

# nv-vgpu under real libvirt (two daemons), and noVNC in headless
# Chromium, in one test-host boot of its own (tests/libvirt).
LIBVIRT_RESULTS := $(BUILD)/libvirt/results
check-libvirt: build nvsim
	@mkdir -p $(LIBVIRT_RESULTS)
	@start=$$(date +%s); \
	VGPU_HOST_RESULTS=$(LIBVIRT_RESULTS) tests/vgpu-host/run \
		/usr/bin/python3 tests/libvirt/libvirt-tests.py; rc=$$?; \
	echo "check-libvirt: $$(( $$(date +%s) - start )) s with the test-host boot;" \
		"screenshots and figures in $(LIBVIRT_RESULTS)/"; exit $$rc

# All four, and one closing line over them.
check:
	@sh fork/check.sh

demo: nvsim vnc-client
	@sh fork/demo.sh

# Console and migration, nv-vgpu against upstream vfio-pci (bench/).
bench: nvsim vnc-client
	@tests/vgpu-host/run /usr/bin/python3 bench/console-bench.py
	@VGPU_HOST_MEM=4G tests/vgpu-host/run /usr/bin/python3 bench/migration-bench.py

clean:
	rm -rf $(QBUILD) $(TREE)

distclean:
	rm -rf $(BUILD)
