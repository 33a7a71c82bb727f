cmake_policy(SET CMP0009 NEW)  # GLOB_RECURSE does not follow symlinks
# Fails the build when a source file includes a header its layer may not: the layers of
# docs/architecture.md, enforced. Run as a build step (target kvmem_layers):
#   cmake -DSOURCE_DIR=<repo> -DSTAMP=<file> -P cmake/CheckLayers.cmake
# Each rule: a directory, the quoted-include prefixes its files may use, and the system
# headers they may not. Directories without a rule (the binaries' wiring in controller/daemon
# and the main.cpp files, tests, bench, fuzz) may include anything.
# Lists inside a rule are comma-separated (CMake's own list separator is ';').
set(pure_forbidden "libvirt/,yaml-cpp/,prometheus/,numa.h,libxml/,boost/,nlohmann/,fcntl.h,unistd.h,sys/")
set(rules
  "common/|common/|libvirt/,numa.h,libxml/"
  "host/procfs/|common/,host/procfs/|libvirt/,prometheus/,yaml-cpp/,numa.h"
  "host/virt/|common/,host/procfs/,host/virt/|prometheus/,yaml-cpp/,numa.h"
  "host/write/|common/,host/write/,host/virt/handles.h,host/virt/types.h|prometheus/,yaml-cpp/"
  "exporter/|common/,host/procfs/,host/virt/,exporter/|libvirt/,yaml-cpp/,numa.h,libxml/"
  "controller/model/|controller/model/,common/result.h|${pure_forbidden}"
  "controller/policy/|controller/model/,controller/policy/|${pure_forbidden}"
  "controller/alerts/|controller/model/,controller/alerts/|${pure_forbidden}"
  "controller/config/|controller/model/,controller/config/,common/|libvirt/,prometheus/,numa.h,libxml/"
  "controller/observe/|controller/model/,controller/observe/,host/procfs/,host/virt/,common/|libvirt/,prometheus/,numa.h,libxml/"
  "controller/actuate/|controller/model/,controller/actuate/,host/write/libvirt_writer.h,host/write/sysfs.h,host/write/numa.h,host/procfs/root.h,common/result.h,common/log.h|libvirt/,prometheus/,yaml-cpp/,numa.h,libxml/,nlohmann/"
  "controller/loop/|controller/model/,controller/policy/,controller/actuate/actuator.h,controller/loop/,common/|libvirt/,numa.h,libxml/,yaml-cpp/"
  "controller/webhook/|controller/model/,controller/alerts/,controller/webhook/,common/|libvirt/,numa.h,libxml/,yaml-cpp/"
)

set(violations "")
foreach(rule IN LISTS rules)
  string(REPLACE "|" ";" parts "${rule}")
  list(GET parts 0 dir)
  list(GET parts 1 allowed)
  list(GET parts 2 forbidden)
  string(REPLACE "," ";" allowed "${allowed}")
  string(REPLACE "," ";" forbidden "${forbidden}")
  file(GLOB_RECURSE files "${SOURCE_DIR}/${dir}*.h" "${SOURCE_DIR}/${dir}*.cpp")
  foreach(file IN LISTS files)
    file(STRINGS "${file}" includes REGEX "^#include [<\"]")
    file(RELATIVE_PATH rel "${SOURCE_DIR}" "${file}")
    foreach(line IN LISTS includes)
      if(line MATCHES "^#include \"([^\"]+)\"")
        set(header "${CMAKE_MATCH_1}")
        set(ok FALSE)
        foreach(prefix IN LISTS allowed)
          string(FIND "${header}" "${prefix}" at)
          if(at EQUAL 0)
            set(ok TRUE)
          endif()
        endforeach()
        if(NOT ok)
          string(APPEND violations "  ${rel}: #include \"${header}\" (layer ${dir} may not)\n")
        endif()
      elseif(line MATCHES "^#include <([^>]+)>")
        set(header "${CMAKE_MATCH_1}")
        foreach(prefix IN LISTS forbidden)
          string(FIND "${header}" "${prefix}" at)
          if(at EQUAL 0)
            string(APPEND violations "  ${rel}: #include <${header}> (not in layer ${dir})\n")
          endif()
        endforeach()
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "Layer violations (docs/architecture.md):\n${violations}")
endif()
if(STAMP)
  file(TOUCH "${STAMP}")
endif()
