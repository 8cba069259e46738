# Writes OUT: a header with each template of DIR as a raw string literal.
file(READ ${DIR}/kvserver.service.in KVSERVER)
file(READ ${DIR}/etcd.service.in ETCD)
file(WRITE ${OUT} "// Generated from templates/*.service.in by templates/embed.cmake. Do not edit.\n"
  "#pragma once\nnamespace provision::embedded {\n"
  "inline constexpr const char* kKvserverUnit = R\"TEMPLATE(${KVSERVER})TEMPLATE\";\n"
  "inline constexpr const char* kEtcdUnit = R\"TEMPLATE(${ETCD})TEMPLATE\";\n}\n")
