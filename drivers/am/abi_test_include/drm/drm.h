// <linux/kfd_ioctl.h> includes <drm/drm.h>; Debian ships it in libdrm's
// include directory as <drm.h>. Only abi_test includes the system header.
#include <drm.h>
