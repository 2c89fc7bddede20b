/* Debian's ITK 5.2 ships an itk_compiler_detection.h generated for GCC only: it stops
 * with "#error Unsupported compiler" under clang, which the fuzzing and sanitizer
 * builds need. Clang implements every GCC feature ITK asks about, so clang builds
 * force-include this file before the ITK-using sources (see lib/CMakeLists.txt): the
 * real header is read once here, taking its GCC branch, its include guard makes ITK's
 * own later includes no-ops, and clang's macros are restored afterwards. */
#if defined(__clang__) && defined(__cplusplus)
#  pragma push_macro("__clang__")
#  pragma push_macro("__GNUC__")
#  pragma push_macro("__GNUC_MINOR__")
#  undef __clang__
#  undef __GNUC__
#  undef __GNUC_MINOR__
#  define __GNUC__ 12
#  define __GNUC_MINOR__ 2
#  include <itk_compiler_detection.h>
#  pragma pop_macro("__GNUC_MINOR__")
#  pragma pop_macro("__GNUC__")
#  pragma pop_macro("__clang__")
#endif
