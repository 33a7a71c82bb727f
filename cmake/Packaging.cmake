# The kvmem .deb (CPack): both binaries (their install() rules are beside the targets), the
# hardened systemd units with their /etc/default flags, the example policy, the generated alert
# rules and runbook, the dashboards, and the deploy/ configs. Build it from the build
# directory with `cpack -G DEB`; tests/e2e/monitoring_deploy.sh checks what it holds.
# Paths under /etc are absolute on purpose (Debian's place for them) and are conffiles, so
# an upgrade never overwrites an operator's policy or flags.

set(KVMEM_SHARE share/kvmem)
set(KVMEM_MAN_NAME_kvmem_exporter "Prometheus exporter of memory locality on KVM hosts")
set(KVMEM_MAN_NAME_kvmem_controller "moves memory between a KVM host and its VMs")
set(KVMEM_DOC share/doc/kvmem)

# /lib, not /usr/lib: where bookworm's debhelper puts units (dpkg does not know /lib is /usr/lib).
install(FILES deploy/systemd/kvmem-exporter.service deploy/systemd/kvmem-controller.service
        DESTINATION /lib/systemd/system)
install(FILES deploy/systemd/kvmem-exporter.default DESTINATION /etc/default RENAME kvmem-exporter)
install(FILES deploy/systemd/kvmem-controller.default DESTINATION /etc/default RENAME kvmem-controller)
install(FILES deploy/policy.yaml DESTINATION /etc/kvmem)
install(FILES deploy/logrotate/kvmem-controller DESTINATION /etc/logrotate.d)
install(FILES alerts/kvmem.rules.yml alerts/kvmem-fleet.rules.yml alerts/runbook.md DESTINATION ${KVMEM_SHARE}/alerts)
install(FILES dashboards/kvmem-host.json dashboards/kvmem-vms.json dashboards/kvmem-controller.json
              dashboards/kvmem-fleet.json dashboards/README.md
        DESTINATION ${KVMEM_SHARE}/dashboards)
install(FILES deploy/policy.yaml DESTINATION ${KVMEM_SHARE}/deploy)
install(FILES deploy/prometheus/prometheus.yml DESTINATION ${KVMEM_SHARE}/deploy/prometheus)
install(FILES deploy/alertmanager/alertmanager.yml DESTINATION ${KVMEM_SHARE}/deploy/alertmanager)
install(FILES deploy/fleet/prometheus-host.yml deploy/fleet/prometheus-global.yml deploy/fleet/vmagent.yml
              deploy/fleet/alertmanager.yml DESTINATION ${KVMEM_SHARE}/deploy/fleet)
install(FILES deploy/kubernetes/daemonset.yaml deploy/kubernetes/Dockerfile DESTINATION ${KVMEM_SHARE}/deploy/kubernetes)
install(FILES README.md docs/monitoring.md docs/fleet.md docs/metrics.md docs/policy.md docs/controller.md
        DESTINATION ${KVMEM_DOC})
# --web.config.file: an example (not a conffile: it needs certificates) and its documentation.
install(FILES deploy/web-config.yml DESTINATION ${KVMEM_SHARE}/deploy)
install(FILES docs/security.md DESTINATION ${KVMEM_DOC})

# What Debian's lintian asks of every package: the licence in the machine-readable copyright
# format, a changelog, and a man page per program. The changelog and man pages are compressed
# with -n so that rebuilding the package gives the same bytes.
install(FILES deploy/debian/copyright DESTINATION ${KVMEM_DOC})
install(FILES deploy/debian/lintian-overrides DESTINATION share/lintian/overrides RENAME kvmem)
set(KVMEM_DEB_RELEASE 1)
file(STRINGS deploy/debian/changelog KVMEM_CHANGELOG_TOP LIMIT_COUNT 1)
if(NOT KVMEM_CHANGELOG_TOP MATCHES "^kvmem \\(${PROJECT_VERSION}-${KVMEM_DEB_RELEASE}\\) ")
  message(FATAL_ERROR "deploy/debian/changelog starts with '${KVMEM_CHANGELOG_TOP}', "
          "not version ${PROJECT_VERSION}-${KVMEM_DEB_RELEASE}: add an entry for this version")
endif()
set(KVMEM_DEB_GENERATED ${PROJECT_BINARY_DIR}/debian/doc)
add_custom_command(OUTPUT ${KVMEM_DEB_GENERATED}/changelog.Debian.gz
  COMMAND ${CMAKE_COMMAND} -E copy ${PROJECT_SOURCE_DIR}/deploy/debian/changelog ${KVMEM_DEB_GENERATED}/changelog.Debian
  COMMAND gzip -9nf ${KVMEM_DEB_GENERATED}/changelog.Debian
  DEPENDS ${PROJECT_SOURCE_DIR}/deploy/debian/changelog VERBATIM)
find_program(KVMEM_HELP2MAN help2man REQUIRED)  # scripts/setup.sh installs it with the build packages
set(KVMEM_MAN_PAGES ${KVMEM_DEB_GENERATED}/changelog.Debian.gz)
foreach(prog IN ITEMS kvmem_exporter kvmem_controller)
  set(page ${KVMEM_DEB_GENERATED}/${prog}.1)
  add_custom_command(OUTPUT ${page}.gz
    COMMAND ${KVMEM_HELP2MAN} --no-info --no-discard-stderr --section=1
            --name=${KVMEM_MAN_NAME_${prog}} --version-string=${PROJECT_VERSION} --output=${page} $<TARGET_FILE:${prog}>
    COMMAND gzip -9nf ${page}
    DEPENDS ${prog} VERBATIM)
  list(APPEND KVMEM_MAN_PAGES ${page}.gz)
  install(FILES ${page}.gz DESTINATION share/man/man1)
endforeach()
add_custom_target(kvmem_deb_docs ALL DEPENDS ${KVMEM_MAN_PAGES})
install(FILES ${KVMEM_DEB_GENERATED}/changelog.Debian.gz DESTINATION ${KVMEM_DOC})

set(KVMEM_CONFFILES "/etc/default/kvmem-exporter\n/etc/default/kvmem-controller\n/etc/kvmem/policy.yaml\n/etc/logrotate.d/kvmem-controller\n")
file(WRITE ${PROJECT_BINARY_DIR}/debian/conffiles "${KVMEM_CONFFILES}")
# Units are installed, not enabled: the operator chooses (systemctl enable --now kvmem-exporter).
file(WRITE ${PROJECT_BINARY_DIR}/debian/postinst
     "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n")
file(CHMOD ${PROJECT_BINARY_DIR}/debian/postinst PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
     GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_PACKAGE_NAME kvmem)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_RELEASE ${KVMEM_DEB_RELEASE})  # 0.1.0-1: not a native Debian package
set(CPACK_PACKAGE_VENDOR kvmem)
set(CPACK_PACKAGE_CONTACT "kvmem maintainers <kvmem@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "memory locality exporter and controller for KVM/libvirt hosts")
# Lines under 80 columns: dpkg shows the description as written, and lintian asks for that.
set(CPACK_PACKAGE_DESCRIPTION "kvmem_exporter publishes per-NUMA-node and per-VM memory metrics
for Prometheus; kvmem_controller adjusts balloons, virtio-mem, compaction,
hugepage pools and NUMA placement from a policy. Includes systemd units,
alert rules generated from the example policy, and Grafana dashboards.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from the binaries' libraries (dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus, prometheus-alertmanager, libvirt-daemon-system")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/debian/conffiles ${PROJECT_BINARY_DIR}/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_GENERATOR DEB)
include(CPack)
