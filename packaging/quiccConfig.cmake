# find_package(quicc) for an installed libquicc: the imported targets quicc::quicc (the
# shared library) and quicc::quicc_static (the static one, with GnuTLS, nghttp3 and threads
# as its link dependencies).
get_filename_component(_quicc_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(PkgConfig)
pkg_check_modules(QUICC_DEP_GNUTLS REQUIRED IMPORTED_TARGET gnutls>=3.7.2)
pkg_check_modules(QUICC_DEP_NGHTTP3 REQUIRED IMPORTED_TARGET libnghttp3)

if(NOT TARGET quicc::quicc)
  add_library(quicc::quicc SHARED IMPORTED)
  set_target_properties(quicc::quicc PROPERTIES
    IMPORTED_LOCATION "${_quicc_prefix}/lib/libquicc.so"
    IMPORTED_SONAME "libquicc.so.0"
    INTERFACE_INCLUDE_DIRECTORIES "${_quicc_prefix}/include")
endif()
if(NOT TARGET quicc::quicc_static)
  add_library(quicc::quicc_static STATIC IMPORTED)
  set_target_properties(quicc::quicc_static PROPERTIES
    IMPORTED_LOCATION "${_quicc_prefix}/lib/libquicc.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_quicc_prefix}/include"
    INTERFACE_LINK_LIBRARIES "PkgConfig::QUICC_DEP_GNUTLS;PkgConfig::QUICC_DEP_NGHTTP3;Threads::Threads")
endif()
unset(_quicc_prefix)
