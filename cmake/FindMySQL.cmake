# SPDX-License-Identifier: MIT
# Finds a MySQL C API client: MariaDB Connector/C (libmariadb, Debian's libmariadb-dev) or
# Oracle's libmysqlclient. Defines MySQL_FOUND and the imported target MySQL::MySQL.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_MySQL QUIET libmariadb)
  if(NOT PC_MySQL_FOUND)
    pkg_check_modules(PC_MySQL QUIET mysqlclient)
  endif()
endif()
find_path(MySQL_INCLUDE_DIR NAMES mysql.h
  HINTS ${PC_MySQL_INCLUDE_DIRS} PATH_SUFFIXES mariadb mysql)
find_library(MySQL_LIBRARY NAMES mariadb mysqlclient HINTS ${PC_MySQL_LIBRARY_DIRS})
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(MySQL REQUIRED_VARS MySQL_LIBRARY MySQL_INCLUDE_DIR)
if(MySQL_FOUND AND NOT TARGET MySQL::MySQL)
  add_library(MySQL::MySQL UNKNOWN IMPORTED)
  set_target_properties(MySQL::MySQL PROPERTIES
    IMPORTED_LOCATION "${MySQL_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${MySQL_INCLUDE_DIR}")
endif()
mark_as_advanced(MySQL_INCLUDE_DIR MySQL_LIBRARY)
