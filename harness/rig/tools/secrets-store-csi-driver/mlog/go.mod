// Stand-in for monis.app/mlog, which the module proxy refuses (403). The driver only uses it to set up klog's
// level/format and to log fatal errors; this module keeps exactly that surface over klog, so the driver's own
// code is built unchanged.
module monis.app/mlog

go 1.24.0

require k8s.io/klog/v2 v2.140.0
