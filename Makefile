# sector7 build.  GNU Make; `make help` lists the targets.
#
#   make              build build/sector7
#   make demo         install what is missing, start the simulated cluster, apply the built-in site
#   make check        the fast tests: unit, golden, command line, fuzz corpora, docs (no cluster)
#   make test         install what is missing, the fast tests, then every test under ASan+UBSan
#   make cluster-up   start the simulated cluster in .cluster (KUBECONFIG=.cluster/kubeconfig)
#   make cluster-down stop it
#   make cluster-up-real  the same with a real node (containerd, kubelet): IMAGES=DIR imports images
#   make realnode-smoke   start a cluster with a real node, run its smoke test, stop it
#   make realnode-lifecycle  start/stop/crash test of the real node (nothing left behind)
#   make fault        apply through a fault-injecting proxy (FAULT_RUNS=50 for the full run)
#   make e2e          the stack's real containers end to end on the real node (tests/e2e)
#   make e2e-up       the same site left running in .cluster (.cluster/e2e.env)

CC       ?= cc
OPT      ?= -O2
CPPFLAGS += -D_GNU_SOURCE
CFLAGS   += -std=c11 -g $(OPT) -Wall -Wextra -Wformat=2 -Wshadow \
            -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
            -Wvla -Wno-unused-parameter $(WERROR) $(SAN)
WERROR   ?= -Werror
LDLIBS   += -lcurl -lyaml -ljansson -lcrypto -lcrypt
BUILD    ?= build

SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

SRC      := $(sort $(wildcard src/*.c src/*/*.c))
LIBSRC   := $(filter-out src/main.c src/cmd/%,$(SRC))
OBJ      := $(SRC:%.c=$(BUILD)/%.o)
LIBOBJ   := $(LIBSRC:%.c=$(BUILD)/%.o)
EMBEDDED := $(sort $(wildcard catalog/*.yaml catalog/*/*.yaml)) examples/sector7.yaml
UNIT     := $(sort $(wildcard tests/unit/test_*.c))
BTEST    := $(sort $(wildcard tests/backup/*.c))
FUZZ     := $(sort $(wildcard fuzz/fuzz_*.c))

.PHONY: all deps demo test check check-all unit golden cli fuzz-replay asan fuzz \
        bench clean help docs docs-check cluster-up cluster-down integration wiring \
        cluster-up-real realnode-smoke realnode-lifecycle e2e e2e-up \
        postgres-roles backup-tests backup-integration fetch-test export-test alerts fault

all: $(BUILD)/sector7

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -Isrc -I$(BUILD) -MMD -MP -c -o $@ $<

$(BUILD)/embed: tools/embed.c
	@mkdir -p $(dir $@)
	@$(CC) -O1 -o $@ $<

$(BUILD)/embedded.c: $(BUILD)/embed $(EMBEDDED)
	@echo "  EMBED catalog"
	@$(BUILD)/embed $@ $(EMBEDDED)

$(BUILD)/embedded.o: $(BUILD)/embedded.c
	@$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -Isrc -c -o $@ $<

# A hash of the sources: the parsed-upstream cache keeps apart what
# different builds wrote (src/render/parsed.c).
$(BUILD)/buildid.h: $(SRC) $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	@printf '#define S7_BUILD_ID "%s"\n' $$(cat $(SRC) $(wildcard src/*/*.h) | sha256sum | cut -c1-16) >$@.tmp
	@cmp -s $@.tmp $@ || mv -f $@.tmp $@; rm -f $@.tmp

$(BUILD)/src/render/parsed.o: $(BUILD)/buildid.h

$(BUILD)/libsector7.a: $(LIBOBJ) $(BUILD)/embedded.o
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/sector7: $(BUILD)/src/main.o $(filter $(BUILD)/src/cmd/%,$(OBJ)) $(BUILD)/libsector7.a
	@echo "  LINK $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libsector7.a
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -Isrc -Itests/unit -o $@ $< $(BUILD)/libsector7.a $(LDLIBS)

$(BUILD)/tests/backup/%: tests/backup/%.c $(BUILD)/libsector7.a
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -Isrc -o $@ $< $(BUILD)/libsector7.a $(LDLIBS)

# Fuzz targets, linked with a driver that replays their corpora.
$(BUILD)/fuzz/%: fuzz/%.c fuzz/replay.c $(BUILD)/libsector7.a
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -Isrc -o $@ $< fuzz/replay.c $(BUILD)/libsector7.a $(LDLIBS)

$(BUILD)/sitedoc: tools/sitedoc.c $(BUILD)/libsector7.a
	@$(CC) $(CPPFLAGS) $(CFLAGS) -Isrc -o $@ $< $(BUILD)/libsector7.a $(LDLIBS)

# docs/site.md is generated from the schema; docs-check fails when stale.
docs: $(BUILD)/sitedoc
	$(BUILD)/sitedoc >docs/site.md

docs-check: $(BUILD)/sitedoc
	@$(BUILD)/sitedoc | diff -u docs/site.md - && echo "  docs: docs/site.md matches the schema"

deps:
	@tools/deps.sh

unit: $(UNIT:tests/unit/%.c=$(BUILD)/tests/unit/%)
	@for t in $^; do echo "unit: $$t"; $$t || exit 1; done

golden: $(BUILD)/sector7
	@SECTOR7=$(BUILD)/sector7 tests/golden/run.sh

cli: $(BUILD)/sector7
	@SECTOR7=$(BUILD)/sector7 tests/cli/run.sh

wiring: $(BUILD)/sector7
	@SECTOR7=$(BUILD)/sector7 tests/wiring/run.sh

# sector7 fetch against an HTTPS server on loopback with a test CA.
fetch-test: $(BUILD)/sector7
	@SECTOR7=$(BUILD)/sector7 tests/fetch/run.sh

# sector7 export --flux, built by kubectl kustomize and compared with render.
export-test: $(BUILD)/sector7
	@SECTOR7=$(BUILD)/sector7 tests/export/run.sh

# The site's alert receivers: the real Alertmanager (built from the Go
# module proxy on first use) notifies an SMTP and a webhook sink on loopback.
alerts: $(BUILD)/sector7
	@SECTOR7=$(BUILD)/sector7 tests/alerts/run.sh

# The shared PostgreSQL's roles on a real PostgreSQL server.
postgres-roles: $(BUILD)/sector7 $(BUILD)/tests/unit/test_secrets
	@SECTOR7=$(BUILD)/sector7 tests/postgres/run.sh

# Backups: the WebSocket and exec clients against a loopback TLS server,
# the CMS envelope against openssl(1), dumps and restores on a real
# PostgreSQL server (tests/backup/README.md).
backup-tests: $(BUILD)/sector7 $(BTEST:%.c=$(BUILD)/%)
	@SECTOR7=$(BUILD)/sector7 BTEST=$(BUILD)/tests/backup tests/backup/run.sh

# Against the simulated cluster (built on first use, see tests/cluster).
integration: $(BUILD)/sector7 $(BUILD)/tests/unit/test_rollout
	@SECTOR7=$(BUILD)/sector7 ITEST_DIR=$(CURDIR)/$(BUILD)/itest-cluster tests/integration/run.sh
	@SECTOR7=$(BUILD)/sector7 VTEST_DIR=$(CURDIR)/$(BUILD)/verify-cluster tests/verify/run.sh

# backup, teardown and restore on the simulated cluster.
backup-integration: $(BUILD)/sector7
	@SECTOR7=$(BUILD)/sector7 ITEST_DIR=$(CURDIR)/$(BUILD)/backup-cluster tests/backup/cluster.sh

CLUSTER_ADDONS = metallb,cert-manager,local-path,k3s,longhorn,cnpg

# apply through a fault-injecting proxy, FAULT_RUNS times (50: the full run)
FAULT_RUNS ?= 3
fault: $(BUILD)/sector7
	@SECTOR7=$(BUILD)/sector7 FAULT_RUNS=$(FAULT_RUNS) FAULT_DIR=$(CURDIR)/$(BUILD)/fault \
	  $(if $(SAN),FAULT_RSS_MAX_MB=1024) tests/fault/run.sh

cluster-up:
	@tests/cluster/up.sh .cluster --addons $(CLUSTER_ADDONS)

cluster-down:
	@tests/cluster/down.sh .cluster

# One node real (tests/cluster/realnode); needs root.
cluster-up-real:
	@tests/cluster/up.sh .cluster --real-node --addons $(CLUSTER_ADDONS) $(if $(IMAGES),--images $(IMAGES))

RN_DIR = $(CURDIR)/$(BUILD)/realnode-cluster
realnode-smoke:
	@tests/cluster/up.sh $(RN_DIR) --real-node --addons metallb,local-path >/dev/null || \
	  { tests/cluster/down.sh $(RN_DIR); exit 1; }
	@tests/cluster/realnode/smoke.sh $(RN_DIR); rc=$$?; tests/cluster/down.sh $(RN_DIR); exit $$rc

realnode-lifecycle:
	@tests/cluster/realnode/lifecycle.sh $(CURDIR)/$(BUILD)/realnode-lifecycle

# The stack's real containers end to end: a cluster with one real node,
# the images built locally on first use (tests/e2e/README.md); needs root.
e2e: $(BUILD)/sector7
	@SECTOR7=$(BUILD)/sector7 E2E_DIR=$(CURDIR)/$(BUILD)/e2e-cluster tests/e2e/run.sh

e2e-up: $(BUILD)/sector7
	@SECTOR7=$(BUILD)/sector7 tests/e2e/up.sh .cluster

fuzz-replay: $(FUZZ:fuzz/%.c=$(BUILD)/fuzz/%)
	@for t in $^; do n=$$(basename $$t); echo "fuzz corpus: $$n"; \
	  $$t fuzz/corpus/$$n || exit 1; done

# The fast checks (no cluster, no servers): a minute or two.
check: unit golden cli fuzz-replay docs-check

# Everything with the current build settings.
check-all: check wiring postgres-roles backup-tests fetch-test export-test alerts integration backup-integration fault

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=build/asan SAN="$(SAN_FLAGS)" OPT=-O1 check-all

# The fast checks with the normal build, then every suite once, under the
# sanitizers (the cluster suites are the long ones: once is enough).
test: deps
	$(MAKE) check
	$(MAKE) asan

# Coverage-guided fuzzing with libFuzzer (clang): make fuzz TARGET=fuzz_site
fuzz: $(BUILD)/libfuzz/$(TARGET)
	$(BUILD)/libfuzz/$(TARGET) -max_total_time=$${SECONDS_TO_FUZZ:-60} fuzz/corpus/$(TARGET)

$(BUILD)/libfuzz/%: fuzz/%.c $(SRC) $(BUILD)/embedded.c $(BUILD)/buildid.h
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -I$(BUILD) \
	  -o $@ $< $(LIBSRC) $(BUILD)/embedded.c $(LDLIBS)

demo: deps $(BUILD)/sector7
	@tools/demo.sh $(BUILD)/sector7

bench: $(BUILD)/sector7
	@bench/render.sh $(BUILD)/sector7

clean:
	rm -rf build

help:
	@sed -n 's/^#   //p' Makefile

-include $(OBJ:.o=.d)
