# sinkpipe — build, test, bench.  See README.md.
#
#   make                 library + CLI (build/sinkpipe)
#   make test            the whole test suite (what .ci/run runs)
#   make unit            unit tests only;  make unit T=test_buf  one of them
#   make asan            unit + e2e tests under AddressSanitizer/UBSan
#   make bench           benchmarks (see bench/README.md)
#
# BUILD=dir puts every output under dir (default build/).

BUILD     ?= build
CC        ?= gcc
OPT       ?= -O2
SAN       ?=
WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
             -Wmissing-prototypes -Wno-missing-field-initializers
CSTD      := -std=c17 -D_GNU_SOURCE

# The embedded ClickHouse (chDB's libchdb.so) is loaded at run time with
# dlopen, never linked: a program that does not open it (the sanitizer
# builds, the server engine) never maps it.  The library's default place is
# the copy scripts/setup.sh puts in third_party/chdb (kept out of git), else
# a system libchdb.so; SINKPIPE_LIBCHDB overrides both at run time.
ifneq ($(wildcard $(CURDIR)/third_party/chdb/libchdb.so),)
LIBCHDB       ?= $(CURDIR)/third_party/chdb/libchdb.so
else
LIBCHDB       ?= libchdb.so
endif
CHDB_CFLAGS   := -DSP_LIBCHDB_DEFAULT='"$(LIBCHDB)"'

CFLAGS    ?= $(OPT) -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(SAN) -fPIC -Iinclude $(LIB_DIRS:%=-I%) $(CHDB_CFLAGS) -MMD -MP
LIBS      := -ldl -lrdkafka -lcurl -lmicrohttpd -lcrypto -lexpat -ldeflate -lsnappy -lzstd -llz4 -lz -ljansson -lm -lpthread
LDFLAGS   ?=
ALL_LDFLAGS = $(LDFLAGS) $(SAN)

# The library's layer folders (src/lib/LAYERS, docs/architecture.md).  A
# module is named by its file name alone (#include "sp_buf.h", unit tests'
# sp-deps), so objects are built flat in obj/lib/ and every folder is on
# the include path; tests/layers.py keeps includes and calls downward.
LIB_DIRS  := $(sort $(patsubst %/,%,$(dir $(wildcard src/lib/*/*.[ch]))))
LIB_SRC   := $(sort $(wildcard src/lib/*/*.c))
LIB_OBJ   := $(patsubst %.c,$(BUILD)/obj/lib/%.o,$(notdir $(LIB_SRC)))
CLI_SRC   := $(sort $(wildcard src/cli/*.c))
CLI_OBJ   := $(CLI_SRC:src/cli/%.c=$(BUILD)/obj/cli/%.o)
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC  := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all lib cli tests tools examples test unit e2e asan ubsan tsan bench clean setup lint
all: lib cli

lib: $(BUILD)/libsinkpipe.a $(BUILD)/libsinkpipe.so
cli: $(BUILD)/sinkpipe
tests: $(TEST_BIN) $(TOOL_BIN) $(BUILD)/examples/seed_c
tools: $(TOOL_BIN)
examples: $(BUILD)/examples/seed_c

# the library's symbols are hidden but for include/sinkpipe.h (its
# visibility pragma): the shared object exports the public API only
define lib_rule
$(BUILD)/obj/lib/%.o: $(1)/%.c
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) -fvisibility=hidden -c $$< -o $$@
endef
$(foreach d,$(LIB_DIRS),$(eval $(call lib_rule,$(d))))
# dependency files of builds made before the layer folders name the old
# flat paths (src/lib/sp_x.c): such an object is rebuilt, not an error
src/lib/sp_%.c: ;

$(BUILD)/obj/cli/%.o: src/cli/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libsinkpipe.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

SONAME := libsinkpipe.so.0
$(BUILD)/libsinkpipe.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(ALL_LDFLAGS) $(LIBS)
	ln -sf libsinkpipe.so $(BUILD)/$(SONAME)

$(BUILD)/sinkpipe: $(CLI_OBJ) $(BUILD)/libsinkpipe.a
	$(CC) -o $@ $(CLI_OBJ) $(BUILD)/libsinkpipe.a $(ALL_LDFLAGS) $(LIBS)

# A unit test names the library modules it needs on a line
#   // sp-deps: sp_buf sp_error sp_codec sp_codec_*
# so that it builds while other modules are still in progress; "all" links
# the whole library; a word with '*' names every module it matches (the
# backends of a registry: a new backend needs no edit here).  sp_error
# comes with sp_secret (every error message is scrubbed of secrets).
sp_deps_of = $(shell sed -n 's|^// sp-deps:||p' $(1))
sp_deps_expand = $(foreach w,$(1),$(if $(findstring *,$(w)),$(basename $(notdir $(wildcard src/lib/*/$(w).c))),$(w)))
define test_deps
$(if $(filter all,$(call sp_deps_of,$(1))),$(LIB_OBJ),$(patsubst %,$(BUILD)/obj/lib/%.o,$(sort $(call sp_deps_expand,$(call sp_deps_of,$(1))) $(if $(filter sp_error,$(call sp_deps_of,$(1))),sp_secret))))
endef

.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $$(call test_deps,tests/unit/$$*.c)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(call test_deps,$<) $(ALL_LDFLAGS) $(LIBS)

# a stand-in libchdb.so beside test_ch_chdb (the embedded transport's
# threads under TSan, which cannot host the real one)
$(BUILD)/tests/libfakechdb.so: tests/unit/fake_chdb.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(SAN) -fPIC -shared -o $@ $< -lpthread
$(BUILD)/tests/test_ch_chdb: $(BUILD)/tests/libfakechdb.so

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libsinkpipe.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libsinkpipe.a $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libsinkpipe.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libsinkpipe.a $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/examples/seed_c: examples/c/seed.c $(BUILD)/libsinkpipe.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libsinkpipe.a $(ALL_LDFLAGS) $(LIBS)

setup:
	bash scripts/setup.sh

# make unit [T=test_name]
unit: $(if $(T),$(BUILD)/tests/$(T),$(TEST_BIN))
	@BUILD=$(BUILD) bash tests/run.sh --unit $(T)

e2e: all tests
	@BUILD=$(BUILD) bash tests/run.sh --e2e

# the whole suite: unit + e2e, then unit + e2e again under ASan/UBSan
test: all tests
	@BUILD=$(BUILD) bash tests/run.sh --all

asan:
	$(MAKE) BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all tests

# the embedded engine under UndefinedBehaviorSanitizer alone (ASan cannot
# host libchdb), in build-ubsan/ (tests/run.sh --all runs some e2e tests
# with it)
ubsan:
	$(MAKE) BUILD=build-ubsan OPT=-O1 SAN="-fsanitize=undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all tools

# ThreadSanitizer, in build-tsan/ (tests/run.sh --all runs it): the unit
# tests of every module that starts threads or is called from threads it
# does not own (scheduler, job workers, ingest groups, the gzip codec's
# worker, the S3 store's upload threads, librdkafka's delivery callbacks,
# the embedded transport's prefetch and insert threads on a stand-in chDB),
# and the CLI for the e2e tests of the daemon (HTTP connection threads,
# the reload thread) on a ClickHouse server (TSan cannot host libchdb)
TSAN_TESTS := test_sched test_jobs test_ingest_group test_codec test_store_s3 test_kafka \
              test_ch_chdb
tsan:
	$(MAKE) BUILD=build-tsan OPT=-O1 SAN="-fsanitize=thread" all tools $(TSAN_TESTS:%=build-tsan/tests/%)

lint:
	@bash tests/lint.sh

bench: all tools $(BENCH_BIN)
	@BUILD=$(BUILD) bash bench/run.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-ubsan

# fuzz targets and their replay programs (tests/fuzz/fuzz.mk)
-include tests/fuzz/fuzz.mk
tests: $(FUZZ_REPLAY_BIN)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
