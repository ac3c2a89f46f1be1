// The translation unit of a precompiled-header group (CMakeLists.txt, interleave_add_test): it only
// carries the group's compile settings; the test programs of the group reuse its header.
