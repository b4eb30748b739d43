# lit configuration of vgcu's IR, tool and end-to-end tests.
import os

import lit.formats

config.name = "vgcu"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test", ".json"]
config.excludes = ["Inputs", "data", "unit", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "bad-inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.vgcu_obj_root, "test")

bin_dir = os.path.join(config.vgcu_obj_root, "bin")
config.environment["PATH"] = os.pathsep.join(
    [bin_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.environment["VGCU_PLUGINS"] = ""
config.environment["VGCU_REF_MODULES"] = ""
# ASan + UBSan builds: tests that build code of their own against vgcu (which would need the
# same instrumentation) are left to the plain build.
if config.vgcu_sanitize.upper() in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("sanitizers")
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"

config.substitutions.append(("%python", config.python_with_torch))
config.substitutions.append(("%srcroot", config.vgcu_src_root))
config.substitutions.append(("%configs", os.path.join(config.vgcu_src_root, "test", "data",
                                                      "configs")))
config.substitutions.append(("%plugin_dir", os.path.join(config.vgcu_obj_root, "examples")))
config.substitutions.append(("%objroot", config.vgcu_obj_root))
config.substitutions.append(("%make_tiny", "%s %s" % (
    config.python_with_torch, os.path.join(config.vgcu_src_root, "python", "make_tiny_model.py"))))
