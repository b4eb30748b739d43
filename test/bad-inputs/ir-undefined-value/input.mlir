func.func @f() {
  %0 = vgcu.exp %missing : tensor<?x64xf32>
  return
}
