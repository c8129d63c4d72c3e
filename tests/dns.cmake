# DNS names feature, pure part: parser, cache, escaping, their tests and fuzz
# targets. include()d by the top-level CMakeLists.txt, which sets the warning
# flags, enable_testing() and TFT_SANITIZE.

get_filename_component(TFT_DNS_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

# tft_dns (the library) is defined by the top-level CMakeLists.txt.
get_target_property(TFT_DNS_REL_SOURCES tft_dns SOURCES)
set(TFT_DNS_SOURCES)
foreach(s ${TFT_DNS_REL_SOURCES})
	list(APPEND TFT_DNS_SOURCES ${TFT_DNS_ROOT}/${s})
endforeach()

foreach(t dns_parse dns_cache name_escape)
	add_executable(test_${t} ${TFT_DNS_ROOT}/tests/core/test_${t}.c)
	target_include_directories(test_${t} PRIVATE ${TFT_DNS_ROOT}/tests)
	target_link_libraries(test_${t} PRIVATE tft_dns)
	add_test(NAME test_${t} COMMAND test_${t})
	set_tests_properties(test_${t} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()

# The fuzz entry point with a plain main(): replays the seed corpus under
# whatever compiler and sanitizers the build uses.
set(TFT_DNS_CORPUS ${TFT_DNS_ROOT}/tests/fuzz/corpus/dns)
add_executable(fuzz_dns_parse_replay
	${TFT_DNS_ROOT}/tests/fuzz/fuzz_dns_parse.c
	${TFT_DNS_ROOT}/tests/fuzz/replay_main.c)
target_link_libraries(fuzz_dns_parse_replay PRIVATE tft_dns)
add_test(NAME fuzz_dns_parse_replay COMMAND fuzz_dns_parse_replay ${TFT_DNS_CORPUS})

# libFuzzer build: only with clang and its fuzzer runtime; otherwise nothing.
if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
	include(CheckCSourceCompiles)
	set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer,address,undefined")
	set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=fuzzer,address,undefined")
	check_c_source_compiles("
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
" TFT_HAVE_LIBFUZZER)
	unset(CMAKE_REQUIRED_FLAGS)
	unset(CMAKE_REQUIRED_LINK_OPTIONS)
	if(TFT_HAVE_LIBFUZZER)
		set(TFT_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
		# built from sources, not tft_dns, so the library code is instrumented
		add_executable(fuzz_dns_parse
			${TFT_DNS_ROOT}/tests/fuzz/fuzz_dns_parse.c ${TFT_DNS_SOURCES})
		target_include_directories(fuzz_dns_parse PRIVATE
			${TFT_DNS_ROOT}/src/core ${TFT_DNS_ROOT}/include)
		target_compile_options(fuzz_dns_parse PRIVATE ${TFT_FUZZ_FLAGS})
		target_link_options(fuzz_dns_parse PRIVATE ${TFT_FUZZ_FLAGS})
		# new inputs go to the first directory: keep them in the build tree
		set(TFT_DNS_FUZZ_WORK ${CMAKE_CURRENT_BINARY_DIR}/fuzz_dns_corpus)
		file(MAKE_DIRECTORY ${TFT_DNS_FUZZ_WORK})
		add_test(NAME fuzz_dns_parse_run
			COMMAND fuzz_dns_parse -max_total_time=20 -timeout=5 -max_len=1100
				-print_final_stats=1 ${TFT_DNS_FUZZ_WORK} ${TFT_DNS_CORPUS})
		set_tests_properties(fuzz_dns_parse_run PROPERTIES TIMEOUT 120)
	endif()
endif()
