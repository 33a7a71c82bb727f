# KVMEM_FUZZ (fuzz/): libFuzzer needs clang, and every kvmem target is built with its coverage
# instrumentation, which links only against a sanitizer runtime: hence KVMEM_SANITIZE too.
if(KVMEM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "KVMEM_FUZZ=ON needs clang (libFuzzer is part of clang): "
                        "configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(NOT KVMEM_SANITIZE)
    message(FATAL_ERROR "KVMEM_FUZZ=ON needs -DKVMEM_SANITIZE=ON: fuzzing without ASan and UBSan "
                        "finds only outright crashes")
  endif()
endif()

# kvmem_target_defaults(target): C++20, strict warnings, optional -Werror and sanitizers.
function(kvmem_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
    -Wimplicit-fallthrough -Wformat=2)
  if(KVMEM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(KVMEM_SANITIZE)
    target_compile_options(${target} PUBLIC -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
  if(KVMEM_FUZZ)  # libFuzzer's coverage feedback; the sanitizer runtime supplies its callbacks
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()
