# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# One non-recursive GNU Makefile for linkq. `make help` lists the targets.
#
# Output goes to build/default, or to build/san-<list> for a sanitizer
# build (make SANITIZE=address,undefined), so the variants never mix.

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:

comma := ,

# --- user knobs ----------------------------------------------------------

PKG_CONFIG	?= pkg-config
CC		?= cc
CFLAGS		?= -O2 -g
LDFLAGS		?=
WERROR		?= -Werror
SANITIZE	?=
V		?= 0

PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
DATADIR		?= $(PREFIX)/share
MANDIR		?= $(DATADIR)/man
SYSCONFDIR	?= /etc
RUNSTATEDIR	?= /run
LOCALSTATEDIR	?= /var
SYSTEMDUNITDIR	?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir \
		    systemd 2>/dev/null || echo $(PREFIX)/lib/systemd/system)
SYSUSERSDIR	?= $(shell $(PKG_CONFIG) --variable=sysusersdir \
		    systemd 2>/dev/null || echo /usr/lib/sysusers.d)
TMPFILESDIR	?= $(shell $(PKG_CONFIG) --variable=tmpfilesdir \
		    systemd 2>/dev/null || echo /usr/lib/tmpfiles.d)
UDEVRULESDIR	?= $(shell d=$$($(PKG_CONFIG) --variable=udevdir udev \
		    2>/dev/null) && [ -n "$$d" ] && echo $$d/rules.d || \
		    echo /usr/lib/udev/rules.d)
DESTDIR		?=

# --- dependencies --------------------------------------------------------
#
# scripts/deps holds the one table of Debian packages. `make check`,
# `make demo` and `make bench` install what is missing when run as root
# (otherwise they print the apt-get line); other goals only check the
# build dependencies and name the missing packages.

NODEPS_GOALS := clean help uninstall
INSTALL_GOALS := check check-unit check-integration demo bench lint
ifneq ($(filter $(INSTALL_GOALS),$(MAKECMDGOALS)),)
DEPS_STATUS := $(shell scripts/deps --install all >&2; echo $$?)
else ifeq ($(filter-out $(NODEPS_GOALS),$(MAKECMDGOALS))$(if \
    $(MAKECMDGOALS),,all),)
DEPS_STATUS := 0
else
DEPS_STATUS := $(shell scripts/deps --check build >&2; echo $$?)
endif
ifneq ($(DEPS_STATUS),0)
$(error missing dependencies (see above))
endif

pkg_cflags = $(shell $(PKG_CONFIG) --cflags $(1))
pkg_libs = $(shell $(PKG_CONFIG) --libs $(1))

COMMON_PKGS	:= libbsd
STORE_PKGS	:= sqlite3
DAEMON_PKGS	:= inih libevent libimobiledevice-1.0 libusbmuxd-2.0 \
		   libplist-2.0 libusb-1.0 jansson libsystemd
TEST_PKGS	:= cmocka

# --- flags ---------------------------------------------------------------

ifeq ($(SANITIZE),)
BUILD		:= build/default
HARDEN_CFLAGS	:= -D_FORTIFY_SOURCE=2
else
BUILD		:= build/san-$(subst $(comma),-,$(SANITIZE))
# _FORTIFY_SOURCE hides calls from the sanitizers' interceptors.
HARDEN_CFLAGS	:= -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
		    -fno-omit-frame-pointer
HARDEN_LDFLAGS	:= -fsanitize=$(SANITIZE)
endif

WARN_CFLAGS	:= -Wall -Wextra -Wformat=2 -Wformat-security -Wshadow \
		    -Wpointer-arith -Wcast-qual -Wwrite-strings \
		    -Wstrict-prototypes -Wmissing-prototypes \
		    -Wmissing-declarations -Wold-style-definition \
		    -Wsign-compare -Wundef -Wimplicit-fallthrough -Wvla \
		    -Wdeclaration-after-statement -fno-common $(WERROR)

HARDEN_CFLAGS	+= -fstack-protector-strong -fPIE
HARDEN_LDFLAGS	+= -pie -Wl,-z,relro,-z,now

PATH_CFLAGS	:= -DLINKQ_CONF='"$(SYSCONFDIR)/linkq/linkq.conf"' \
		    -DLINKQ_SOCKET='"$(RUNSTATEDIR)/linkq/linkq.sock"' \
		    -DLINKQ_DB='"$(LOCALSTATEDIR)/lib/linkq/linkq.db"'

# Project flags come after the user's CFLAGS, so a packager's CFLAGS can
# change optimisation but never drops the warnings.
ALL_CFLAGS	= -std=c11 -D_GNU_SOURCE -Iinclude -Idaemon $(CFLAGS) \
		  $(WARN_CFLAGS) $(HARDEN_CFLAGS) $(PATH_CFLAGS) -MMD -MP
ALL_LDFLAGS	= $(LDFLAGS) $(HARDEN_LDFLAGS)

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-7s %s\n'
endif

# --- sources -------------------------------------------------------------

COMMON_SRCS	:= common/exposure.c common/log.c common/status.c \
		   common/table.c \
		   common/time.c common/verdict.c common/vocab.c common/xmalloc.c
# The report engine: in common/ for linkqd and linkq alike, but apart
# from COMMON_SRCS because it needs SQLite and jansson, which linkq-sim
# does not link.
REPORT_SRCS	:= common/blame.c common/history.c common/history-timeline.c \
		   common/merge.c common/report.c common/report-cells.c \
		   common/report-restore.c common/schema.c
REPORT_PKGS	:= sqlite3 jansson
STORE_SRCS	:= daemon/store.c daemon/store-write.c
# linkqd's modules but the main and the store.
DAEMON_SRCS	:= daemon/api.c daemon/api-conn.c daemon/cables.c \
		   daemon/child.c daemon/child-jobs.c daemon/child-main.c \
		   daemon/config.c daemon/dircheck.c \
		   daemon/devices.c daemon/devices-api.c \
		   daemon/devices-kernel.c daemon/devices-usb.c \
		   daemon/devlog.c daemon/events.c \
		   daemon/feed.c daemon/follow.c daemon/hooks.c daemon/kmsg.c \
		   daemon/metrics.c daemon/msg.c daemon/muxproto.c \
		   daemon/muxquery.c \
		   daemon/muxwatch.c \
		   daemon/probe.c \
		   daemon/probe-afc-roundtrip.c daemon/probe-bulk.c \
		   daemon/probe-lockdown-handshake.c \
		   daemon/probe-lockdown-query.c daemon/probe-mux-connect.c \
		   daemon/probe-usb-control.c \
		   daemon/retention.c daemon/run.c daemon/run-plan.c \
		   daemon/service.c daemon/session.c daemon/sources.c \
		   daemon/sysfs.c daemon/usb.c daemon/usbmon.c \
		   daemon/usbmon-parse.c daemon/usbmon-track.c \
		   daemon/watch.c daemon/worker.c
SCHEMA_SQL	:= $(sort $(wildcard schema/[0-9][0-9][0-9][0-9]-*.sql))
SCHEMA_C	:= $(BUILD)/gen/store-schema.c

COMMON_OBJS	:= $(COMMON_SRCS:%.c=$(BUILD)/%.o)
REPORT_OBJS	:= $(REPORT_SRCS:%.c=$(BUILD)/%.o)
# The migrations: the store's, and linkq merge's through common/schema.c.
SCHEMA_OBJ	:= $(SCHEMA_C:.c=.o)
STORE_OBJS	:= $(STORE_SRCS:%.c=$(BUILD)/%.o) $(SCHEMA_OBJ)
DAEMON_OBJS	:= $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
# Everything but the mains, linked into each program and unit test.
LIB_OBJS	:= $(COMMON_OBJS) $(REPORT_OBJS) $(STORE_OBJS) $(DAEMON_OBJS)
# -lm for common/verdict.c.
LIB_LIBS	= $(call pkg_libs,$(COMMON_PKGS) $(STORE_PKGS) $(DAEMON_PKGS)) \
		  -lm

$(BUILD)/common/%.o: CPPFLAGS_PKG = $(call pkg_cflags,$(COMMON_PKGS))
$(REPORT_OBJS): CPPFLAGS_PKG = $(call pkg_cflags,$(COMMON_PKGS) \
	$(REPORT_PKGS))
$(BUILD)/daemon/%.o: CPPFLAGS_PKG = $(call pkg_cflags,$(STORE_PKGS) \
	$(DAEMON_PKGS))

# linkq-sim: every module but the main, which unit tests link too.
SIM_PKGS	:= openssl libplist-2.0 jansson
SIM_SRCS	:= sim/afc.c sim/bench.c sim/clock.c sim/conn.c \
		   sim/control.c sim/device.c sim/evlog.c sim/hostfault.c \
		   sim/hostile.c \
		   sim/kernel.c sim/link.c sim/lockdown.c sim/mux.c sim/muxd.c \
		   sim/pair.c sim/plist-service.c sim/preflight.c \
		   sim/scenario.c sim/services.c sim/sysfs.c sim/umockdev.c
SIM_OBJS	:= $(SIM_SRCS:%.c=$(BUILD)/%.o)
# The umockdev testbed (--umockdev) is built in when libumockdev-dev is
# installed; without it linkq-sim refuses the option. Its headers pull
# in GLib's, included as system headers so that our warnings skip them.
UMOCKDEV_PKGS	:= umockdev-1.0
HAVE_UMOCKDEV	:= $(shell $(PKG_CONFIG) --exists $(UMOCKDEV_PKGS) && \
		    echo yes)
ifeq ($(HAVE_UMOCKDEV),yes)
UMOCKDEV_CFLAGS	= -DLQ_HAVE_UMOCKDEV $(patsubst -I%,-isystem %, \
		  $(call pkg_cflags,$(UMOCKDEV_PKGS)))
UMOCKDEV_LIBS	= $(call pkg_libs,$(UMOCKDEV_PKGS))
endif
SIM_LIBS	= $(call pkg_libs,$(COMMON_PKGS) $(SIM_PKGS)) \
		  $(UMOCKDEV_LIBS) -lpthread -lm
$(BUILD)/sim/%.o: CPPFLAGS_PKG = $(call pkg_cflags,$(SIM_PKGS))
$(BUILD)/sim/umockdev.o: CPPFLAGS_PKG = $(call pkg_cflags,$(SIM_PKGS)) \
	$(UMOCKDEV_CFLAGS)

# linkq, the client: the control API through libcurl, COMMON_OBJS and
# none of the daemon's modules but the report engine, which `report --db`
# runs on a database file.
# zlib and libcrypto for linkq bundle: its .tar.gz and the HMAC that
# hashes phone identifiers.
CLIENT_PKGS	:= libcurl jansson sqlite3 zlib libcrypto
CLIENT_SRCS	:= client/bundle-files.c client/bundle-ids.c \
		   client/bundle-readme.c client/bundle-report.c \
		   client/bundle-source.c client/bundle-tar.c \
		   client/cmd-bundle.c client/cmd-cable.c client/cmd-events.c client/cmd-pair.c \
		   client/cmd-port.c client/cmd-report.c client/cmd-runs.c \
		   client/cmd-show.c client/cmd-status.c client/cmd-test.c \
		   client/cmd-watch.c client/cmd-wiggle.c \
		   client/ask.c client/follow.c client/history.c client/http.c \
		   client/linkq.c \
		   client/qualify.c client/restore-parse.c client/target.c \
		   client/wait.c client/help.c \
		   client/cmd-drawer.c client/cmd-merge.c \
		   client/drawer-session.c \
		   client/drawer-summary.c client/drawer-swap.c
# report --html: the page, its charts, its runs and timelines.
CLIENT_SRCS	+= client/report-html.c client/report-chart.c \
		   client/report-source.c
CLIENT_OBJS	:= $(CLIENT_SRCS:%.c=$(BUILD)/%.o)
CLIENT_LIBS	= $(call pkg_libs,$(COMMON_PKGS) $(CLIENT_PKGS)) -lm
$(BUILD)/client/%.o: CPPFLAGS_PKG = $(call pkg_cflags,$(COMMON_PKGS) \
	$(CLIENT_PKGS))

# Programs.
SBIN_PROGS	:= linkqd
BIN_PROGS	:= linkq linkq-sim
MAN1		:= client/linkq.1 sim/linkq-sim.1
MAN5		:= daemon/linkq.conf.5
MAN8		:= daemon/linkqd.8
# bash-completion loads a command's completion on demand from here.
COMPLETIONDIR	:= $(DATADIR)/bash-completion/completions

BENCH_PROGS	:= $(BUILD)/bench/lq-gendb $(BUILD)/bench/bench-store \
		   $(BUILD)/bench/lq-probe
# The baselines (and the simulator's benchmarks): on libimobiledevice
# alone like TEST_TOOLS, never on linkq code.
BENCH_TOOLS	:= $(BUILD)/bench/bench-afc $(BUILD)/bench/bench-handshake \
		   $(BUILD)/bench/bench-rtt

# Programs the integration tests run. They use their libraries' public
# APIs only, never linkq code (compat.h aside: libbsd's strtonum).
TOOLS_PKGS	:= libimobiledevice-1.0 libusbmuxd-2.0 libplist-2.0 \
		   libusb-1.0 $(COMMON_PKGS)
TEST_TOOLS	:= $(BUILD)/tests/tools/lq-afc-check \
		   $(BUILD)/tests/tools/lq-flood \
		   $(BUILD)/tests/tools/lq-lenient \
		   $(BUILD)/tests/tools/lq-mux-events \
		   $(BUILD)/tests/tools/lq-notify-listen \
		   $(BUILD)/tests/tools/lq-raw \
		   $(BUILD)/tests/tools/lq-service-check \
		   $(BUILD)/tests/tools/lq-usb-list

UNIT_TESTS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%, \
		    $(sort $(wildcard tests/unit/test-*.c)))
INTEGRATION_TESTS := $(sort $(wildcard tests/integration/[0-9]*.sh))

# --- rules ---------------------------------------------------------------

.PHONY: all check check-unit check-integration demo install uninstall \
	check-package clean lint fuzz bench help

all: $(LIB_OBJS) $(addprefix $(BUILD)/,$(SBIN_PROGS) $(BIN_PROGS)) \
	$(BENCH_PROGS)

$(BUILD)/%.o: %.c
	$(quiet) CC $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(CPPFLAGS_PKG) -c -o $@ $<

$(SCHEMA_C): scripts/embed-schema $(SCHEMA_SQL)
	$(quiet) GEN $@
	@mkdir -p $(@D)
	$(Q)scripts/embed-schema $(SCHEMA_SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/linkqd: $(BUILD)/daemon/linkqd.o $(LIB_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)

$(BUILD)/linkq: $(CLIENT_OBJS) $(COMMON_OBJS) $(REPORT_OBJS) $(SCHEMA_OBJ)
	$(quiet) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CLIENT_LIBS)

$(BUILD)/linkq-sim: $(BUILD)/sim/linkq-sim.o $(SIM_OBJS) $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SIM_LIBS)

$(SCHEMA_C:.c=.o): $(SCHEMA_C)
	$(quiet) CC $@
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/bench/lq-probe.o: CPPFLAGS_PKG = $(call pkg_cflags,$(DAEMON_PKGS))
$(BENCH_PROGS): $(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)

$(BUILD)/tests/unit/%.o: CPPFLAGS_PKG = $(call pkg_cflags,$(TEST_PKGS) \
	$(STORE_PKGS))
$(BUILD)/tests/unit/test-usb.o: CPPFLAGS_PKG = $(call pkg_cflags,$(TEST_PKGS) \
	libusb-1.0)
$(UNIT_TESTS): $(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS) \
	    $(call pkg_libs,$(TEST_PKGS))

# The client's output parser is tested alone.
$(BUILD)/tests/unit/test-restore-parse: $(BUILD)/client/restore-parse.o
$(BUILD)/tests/unit/test-restore-parse.o: CPPFLAGS_PKG = -Iclient \
	$(call pkg_cflags,$(TEST_PKGS))

# The identifier table of linkq bundle, alone, with libcrypto.
$(BUILD)/tests/unit/test-bundle-ids: $(BUILD)/client/bundle-ids.o
$(BUILD)/tests/unit/test-bundle-ids: private LIB_LIBS += \
	$(call pkg_libs,libcrypto)
$(BUILD)/tests/unit/test-bundle-ids.o: CPPFLAGS_PKG = -Iclient \
	$(call pkg_cflags,$(TEST_PKGS) jansson)

# Unit tests of the simulator's modules (test-sim-*.c) link them too.
SIM_UNIT_TESTS	:= $(filter $(BUILD)/tests/unit/test-sim-%,$(UNIT_TESTS))
$(SIM_UNIT_TESTS): $(SIM_OBJS)
$(SIM_UNIT_TESTS): private LIB_LIBS += $(call pkg_libs,$(SIM_PKGS)) \
	$(UMOCKDEV_LIBS) -lpthread -lm
$(SIM_UNIT_TESTS:=.o): CPPFLAGS_PKG = -Isim \
	$(call pkg_cflags,$(TEST_PKGS) $(SIM_PKGS))

# Test tools link no $(LIB_OBJS).
$(BUILD)/tests/tools/%.o: CPPFLAGS_PKG = $(call pkg_cflags,$(TOOLS_PKGS))
$(BENCH_TOOLS:=.o): CPPFLAGS_PKG = $(call pkg_cflags,$(TOOLS_PKGS))
$(TEST_TOOLS) $(BENCH_TOOLS): %: %.o
	$(quiet) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pkg_libs,$(TOOLS_PKGS))
# lq-lenient speaks TLS itself, as pymobiledevice3 and go-ios do.
$(BUILD)/tests/tools/lq-lenient.o: CPPFLAGS_PKG = \
	$(call pkg_cflags,$(TOOLS_PKGS) openssl)
$(BUILD)/tests/tools/lq-lenient: private TOOLS_PKGS += openssl

# linkq-sim's key pool for the tests (LINKQ_SIM_KEY_POOL, linkq-sim(1)):
# every simulated device needs three 2048-bit RSA keys, a quarter of a
# second of CPU each, which the suite's scripts spent minutes on. The
# keys are made once, for every build variant.
KEY_POOL	:= build/key-pool
KEY_POOL_KEYS	:= $(foreach i,$(shell seq 0 127),$(KEY_POOL)/key-$(i).pem)
$(KEY_POOL)/key-%.pem:
	$(quiet) GENKEY $@
	@mkdir -p $(@D)
	$(Q)openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out $@.tmp 2> /dev/null && mv $@.tmp $@
TEST_ENV	:= BUILD=$(BUILD) LINKQ_SIM_KEY_POOL=$(CURDIR)/$(KEY_POOL)

# The test runner prints one line per test and ends with
# "N passed, N failed"; T=name runs the tests whose name contains it.
check: $(UNIT_TESTS) $(BENCH_PROGS) $(BUILD)/linkq-sim $(BUILD)/linkqd \
	$(BUILD)/linkq $(TEST_TOOLS) $(KEY_POOL_KEYS)
	$(Q)$(TEST_ENV) tests/run $(UNIT_TESTS) $(INTEGRATION_TESTS)

check-unit: $(UNIT_TESTS) $(KEY_POOL_KEYS)
	$(Q)$(TEST_ENV) tests/run $(UNIT_TESTS)

check-integration: $(BENCH_PROGS) $(BUILD)/linkq-sim $(BUILD)/linkqd \
	$(BUILD)/linkq $(TEST_TOOLS) $(KEY_POOL_KEYS)
	$(Q)$(TEST_ENV) tests/run $(INTEGRATION_TESTS)

bench: $(BENCH_PROGS) $(BENCH_TOOLS) $(TEST_TOOLS) $(BUILD)/linkq-sim \
	$(BUILD)/linkqd $(BUILD)/linkq
	$(Q)BUILD=$(BUILD) bench/run

demo: $(BUILD)/linkq $(BUILD)/linkqd $(BUILD)/linkq-sim
	$(Q)BUILD=$(BUILD) scripts/demo

# What `make install` puts where, besides the programs and man pages:
# the service unit (with linkqd's path in it), the udev rule for Apple
# devices, sysusers and tmpfiles, and the example configuration, which
# never overwrites one in place. Installed into the live system (no
# DESTDIR), the user, the state directory and the rule are applied at
# once, when the tools for it are there; none of that can fail the
# install.
UNIT		:= systemd/linkqd.service
UDEVRULE	:= systemd/60-linkq.rules
EXAMPLE_CONF	:= examples/linkq.conf
CONFDIR		:= $(SYSCONFDIR)/linkq

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLETIONDIR) \
	    $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(UDEVRULESDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(CONFDIR)
	$(foreach p,$(SBIN_PROGS),install -m 0755 $(BUILD)/$(p) \
	    $(DESTDIR)$(SBINDIR)/$(p);)
	$(foreach p,$(BIN_PROGS),install -m 0755 $(BUILD)/$(p) \
	    $(DESTDIR)$(BINDIR)/$(p);)
	$(foreach m,$(MAN1),install -m 0644 $(m) $(DESTDIR)$(MANDIR)/man1;)
	$(foreach m,$(MAN5),install -m 0644 $(m) $(DESTDIR)$(MANDIR)/man5;)
	$(foreach m,$(MAN8),install -m 0644 $(m) $(DESTDIR)$(MANDIR)/man8;)
	install -m 0644 client/linkq.bash-completion \
	    $(DESTDIR)$(COMPLETIONDIR)/linkq
	sed 's|@SBINDIR@|$(SBINDIR)|g' $(UNIT) > \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/linkqd.service.tmp
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/linkqd.service.tmp
	mv -f $(DESTDIR)$(SYSTEMDUNITDIR)/linkqd.service.tmp \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/linkqd.service
	install -m 0644 $(UDEVRULE) $(DESTDIR)$(UDEVRULESDIR)/60-linkq.rules
	install -m 0644 systemd/linkq.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/linkq.conf
	install -m 0644 systemd/linkq.tmpfiles \
	    $(DESTDIR)$(TMPFILESDIR)/linkq.conf
	@if [ -e $(DESTDIR)$(CONFDIR)/linkq.conf ]; then \
	    echo "keeping $(DESTDIR)$(CONFDIR)/linkq.conf"; \
	else \
	    echo "install -m 0644 $(EXAMPLE_CONF) $(DESTDIR)$(CONFDIR)"; \
	    install -m 0644 $(EXAMPLE_CONF) $(DESTDIR)$(CONFDIR)/linkq.conf; \
	fi
ifeq ($(DESTDIR),)
	@scripts/install-apply install $(SYSUSERSDIR)/linkq.conf \
	    $(TMPFILESDIR)/linkq.conf
endif

# A linkq.conf that is not the example is the user's: it stays.
uninstall:
	rm -f $(foreach p,$(SBIN_PROGS),$(DESTDIR)$(SBINDIR)/$(p)) \
	    $(foreach p,$(BIN_PROGS),$(DESTDIR)$(BINDIR)/$(p)) \
	    $(foreach m,$(MAN1),$(DESTDIR)$(MANDIR)/man1/$(notdir $(m))) \
	    $(foreach m,$(MAN5),$(DESTDIR)$(MANDIR)/man5/$(notdir $(m))) \
	    $(foreach m,$(MAN8),$(DESTDIR)$(MANDIR)/man8/$(notdir $(m))) \
	    $(DESTDIR)$(COMPLETIONDIR)/linkq \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/linkqd.service \
	    $(DESTDIR)$(UDEVRULESDIR)/60-linkq.rules \
	    $(DESTDIR)$(SYSUSERSDIR)/linkq.conf \
	    $(DESTDIR)$(TMPFILESDIR)/linkq.conf
	@if cmp -s $(EXAMPLE_CONF) $(DESTDIR)$(CONFDIR)/linkq.conf; then \
	    echo "rm -f $(DESTDIR)$(CONFDIR)/linkq.conf"; \
	    rm -f $(DESTDIR)$(CONFDIR)/linkq.conf; \
	elif [ -e $(DESTDIR)$(CONFDIR)/linkq.conf ]; then \
	    echo "keeping $(DESTDIR)$(CONFDIR)/linkq.conf: it was edited"; \
	fi
ifeq ($(DESTDIR),)
	@scripts/install-apply uninstall
endif

# The Debian packages (debian/), built from a copy of the tree in
# build/package, their contents and lintian checked: scripts/check-package.
# Installs debhelper, dpkg-dev, fakeroot and lintian as root.
check-package:
	$(Q)scripts/deps --install package
	$(Q)scripts/check-package build/package

# libFuzzer harnesses (clang): tests/fuzz/fuzz-NAME.c, seeds in
# tests/fuzz/corpus/NAME/. The harnesses and the modules they drive are
# built apart in build/fuzz with coverage and ASan+UBSan, the modules
# into two archives (linkqd's, linkq-sim's) so that a harness links only
# what it reaches; fuzz-sim-*.c link the simulator's. `make fuzz` runs
# each for FUZZ_TIME seconds (scripts/fuzz), prints its executions and
# coverage, and fails if any crashed; the inputs it found stay in
# build/fuzz/corpus/NAME, a crash in build/fuzz/crash-NAME-*.
FUZZ_TIME	?= 30
FUZZ		:= build/fuzz
FUZZ_SRCS	:= $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_PROGS	:= $(patsubst tests/fuzz/%.c,$(FUZZ)/%,$(FUZZ_SRCS))
FUZZ_SIM_PROGS	:= $(filter $(FUZZ)/fuzz-sim-%,$(FUZZ_PROGS))
FUZZ_LQ_PROGS	:= $(filter-out $(FUZZ_SIM_PROGS),$(FUZZ_PROGS))
FUZZ_CFLAGS	:= -std=c11 -D_GNU_SOURCE -Iinclude -Idaemon -g -O1 \
		   -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer $(PATH_CFLAGS)
FUZZ_LIB	:= $(FUZZ)/liblinkq.a
FUZZ_SIM_LIB	:= $(FUZZ)/liblinkq-sim.a
FUZZ_LIB_OBJS	:= $(patsubst %.c,$(FUZZ)/%.o,$(COMMON_SRCS) $(REPORT_SRCS) \
		   $(STORE_SRCS) $(DAEMON_SRCS)) $(FUZZ)/gen/store-schema.o
FUZZ_SIM_OBJS	:= $(patsubst %.c,$(FUZZ)/%.o,$(SIM_SRCS) $(COMMON_SRCS))

$(FUZZ)/common/%.o: CPPFLAGS_PKG = $(call pkg_cflags,$(COMMON_PKGS) \
	$(REPORT_PKGS))
$(FUZZ)/daemon/%.o: CPPFLAGS_PKG = $(call pkg_cflags,$(STORE_PKGS) \
	$(DAEMON_PKGS))
$(FUZZ)/sim/%.o: CPPFLAGS_PKG = $(call pkg_cflags,$(SIM_PKGS))
$(FUZZ)/sim/umockdev.o: CPPFLAGS_PKG = $(call pkg_cflags,$(SIM_PKGS)) \
	$(UMOCKDEV_CFLAGS)
$(FUZZ)/tests/fuzz/%.o: CPPFLAGS_PKG = $(call pkg_cflags,$(STORE_PKGS) \
	$(DAEMON_PKGS))
$(FUZZ)/tests/fuzz/fuzz-sim-%.o: CPPFLAGS_PKG = -Isim \
	$(call pkg_cflags,$(SIM_PKGS))

# The harnesses get the project's warnings; the modules had them in the
# normal build, from gcc, whose warnings clang's do not all match.
$(FUZZ)/tests/fuzz/%.o: FUZZ_WARN = $(WARN_CFLAGS)

# fuzzer-no-link: coverage without libFuzzer's main, which only the
# harness's link brings in.
$(FUZZ)/%.o: %.c
	$(quiet) CLANG $@
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(FUZZ_WARN) -fsanitize=fuzzer-no-link \
	    $(CPPFLAGS_PKG) -MMD -MP -c -o $@ $<

$(FUZZ)/gen/store-schema.c: scripts/embed-schema $(SCHEMA_SQL)
	$(quiet) GEN $@
	@mkdir -p $(@D)
	$(Q)scripts/embed-schema $(SCHEMA_SQL) > $@.tmp && mv $@.tmp $@

$(FUZZ)/gen/store-schema.o: $(FUZZ)/gen/store-schema.c
	$(quiet) CLANG $@
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
$(FUZZ_SIM_LIB): $(FUZZ_SIM_OBJS)
$(FUZZ_LIB) $(FUZZ_SIM_LIB):
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_LQ_PROGS): $(FUZZ)/%: $(FUZZ)/tests/fuzz/%.o $(FUZZ_LIB)
	$(quiet) LD $@
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIB_LIBS)
$(FUZZ_SIM_PROGS): $(FUZZ)/%: $(FUZZ)/tests/fuzz/%.o $(FUZZ_SIM_LIB)
	$(quiet) LD $@
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_SIM_LIB) \
	    $(SIM_LIBS)

fuzz: $(FUZZ_PROGS)
	$(Q)FUZZ=$(FUZZ) scripts/fuzz $(FUZZ_TIME) $(FUZZ_PROGS)

MAN_PAGES	:= $(MAN1) $(MAN5) $(MAN8)

lint:
	$(Q)tools/checkstyle
	$(Q)for m in $(MAN_PAGES); do \
	    out=$$(groff -mdoc -ww -z $$m 2>&1); \
	    if [ -n "$$out" ]; then echo "$$m: $$out"; exit 1; fi; \
	done
	$(Q)for s in examples/*.sh; do sh -n $$s || exit 1; done

clean:
	rm -rf build

help:
	@echo "targets:"
	@echo "  all                build what exists (default)"
	@echo "  check              unit and integration tests (installs deps as root)"
	@echo "  check-unit         cmocka unit tests only"
	@echo "  check-integration  shell tests only (T=name to pick some)"
	@echo "  demo               walk a drawer of cables through linkqd and linkq-sim"
	@echo "  bench              benchmarks, see bench/README.md"
	@echo "  lint               tools/checkstyle, groff -ww over the man pages"
	@echo "  fuzz               libFuzzer harnesses, FUZZ_TIME=30 s each"
	@echo "  install uninstall  programs, man pages, completion, systemd unit, udev"
	@echo "                     rule, sysusers, tmpfiles, /etc/linkq/linkq.conf;"
	@echo "                     honour PREFIX, DESTDIR, BINDIR, SBINDIR, DATADIR,"
	@echo "                     MANDIR, SYSCONFDIR, SYSTEMDUNITDIR, UDEVRULESDIR,"
	@echo "                     SYSUSERSDIR, TMPFILESDIR"
	@echo "  check-package      build the .debs (debian/) in build/package, check"
	@echo "                     their contents and lintian (installs its tools)"
	@echo "  clean"
	@echo "variables: V=1 WERROR= SANITIZE=address,undefined|thread CFLAGS="

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ) -name '*.d' 2>/dev/null)
