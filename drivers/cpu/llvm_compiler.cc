#include "drivers/cpu/llvm_compiler.h"

#include <algorithm>
#include <cstdlib>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "absl/base/call_once.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/DiagnosticPrinter.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/IRReader/IRReader.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"
#include "runtime/base/status_macros.h"

namespace uop {

namespace {
// See llvm_compiler.h: kernels carrying this comment get kLeanPipeline.
constexpr absl::string_view kLeanPipelineHint = "; uop-pipeline: lean";
constexpr char kLeanPipeline[] =
    "always-inline,function(sroa,early-cse<memssa>,instcombine,simplifycfg,loop-mssa(licm),gvn,"
    "instcombine,simplifycfg)";
}  // namespace
namespace {

// Bump when the pass pipeline or code generation options change: it is part
// of CacheKey(), so cached objects of the old configuration are not reused.
constexpr int kPipelineVersion = 2;

void InitializeLlvmOnce() {
  static absl::once_flag once;
  absl::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

// LLVM 16 reports "generic" for CPUs newer than it (AMD family 0x1a, Zen 5),
// which drops the scheduling model. The feature string stays exact (it lists
// every feature as + or -), so naming the closest known CPU only changes
// tuning, never the instructions used.
std::string HostCpuName() {
  std::string name = llvm::sys::getHostCPUName().str();
#if defined(__x86_64__)
  if (name.empty() || name == "generic") {
    unsigned eax, ebx, ecx, edx;
    if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) && ebx == signature_AMD_ebx &&
        __get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
      const unsigned family = ((eax >> 8) & 0xf) + ((eax >> 20) & 0xff);
      if (family >= 0x1a) return "znver4";
    }
  }
#endif
  return name.empty() ? "generic" : name;
}

std::string HostFeatures() {
  llvm::StringMap<bool> features;
  std::vector<std::string> list;
  if (llvm::sys::getHostCPUFeatures(features)) {
    for (const auto& f : features)
      list.push_back(absl::StrCat(f.second ? "+" : "-", f.first().str()));
  }
  std::sort(list.begin(), list.end());  // StringMap order is not stable
  return absl::StrJoin(list, ",");
}

bool HasFeature(const std::string& features, absl::string_view f) {
  for (absl::string_view item : absl::StrSplit(features, ',')) {
    if (item.size() > 1 && item[0] == '+' && item.substr(1) == f) return true;
  }
  return false;
}

// Collects error diagnostics (instead of LLVM printing them or exiting).
void CollectDiagnostic(const llvm::DiagnosticInfo& info, void* context) {
  if (info.getSeverity() != llvm::DS_Error) return;
  std::string msg;
  llvm::raw_string_ostream os(msg);
  llvm::DiagnosticPrinterRawOStream printer(os);
  info.print(printer);
  auto* errors = static_cast<std::vector<std::string>*>(context);
  errors->push_back(os.str());
}

// The entry must have the CPU kernel ABI: void (ptr, ptr, i64).
absl::Status CheckEntry(const llvm::Module& m, absl::string_view name) {
  const llvm::Function* f = m.getFunction(llvm::StringRef(name.data(), name.size()));
  if (f == nullptr || f->isDeclaration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("llvm-ir: kernel '", name, "' is not defined in the source"));
  }
  const llvm::FunctionType* t = f->getFunctionType();
  const bool abi = t->getReturnType()->isVoidTy() && t->getNumParams() == 3 &&
                   t->getParamType(0)->isPointerTy() && t->getParamType(1)->isPointerTy() &&
                   t->getParamType(2)->isIntegerTy(64) && !t->isVarArg();
  if (!abi) {
    std::string sig;
    llvm::raw_string_ostream os(sig);
    t->print(os);
    return absl::InvalidArgumentError(
        absl::StrCat("llvm-ir: kernel '", name, "' has type ", os.str(),
                     "; the CPU kernel ABI is void (ptr bufs, ptr vars, i64 core_id)"));
  }
  if (f->hasLocalLinkage()) {
    return absl::InvalidArgumentError(
        absl::StrCat("llvm-ir: kernel '", name, "' must have external linkage to be loaded"));
  }
  return absl::OkStatus();
}

}  // namespace

LlvmCompiler::~LlvmCompiler() = default;

absl::StatusOr<std::unique_ptr<LlvmCompiler>> LlvmCompiler::Create(const Options& options) {
  if (options.opt_level < 1 || options.opt_level > 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("LlvmCompiler: opt_level must be 1, 2 or 3, got ", options.opt_level));
  }
  std::unique_ptr<LlvmCompiler> c(new LlvmCompiler());
  c->triple_ = llvm::sys::getProcessTriple();
  c->cpu_ = options.cpu.empty() ? HostCpuName() : options.cpu;
  c->features_ =
      options.cpu.empty() && options.features.empty() ? HostFeatures() : options.features;
  c->opt_level_ = options.opt_level;
  c->max_vector_bytes_ = HasFeature(c->features_, "avx512f") ? 64
                         : HasFeature(c->features_, "avx")   ? 32
                                                             : 16;
  c->cache_key_ =
      absl::StrCat("llvm-", LLVM_VERSION_STRING, ";", c->triple_, ";", c->cpu_, ";", c->features_,
                   ";O", c->opt_level_, ";pic;pipeline=", kPipelineVersion);
  // The LLVM target itself is set up by the first Compile (SetUpTarget).
  return c;
}

absl::Status LlvmCompiler::SetUpTarget() {
  absl::call_once(target_once_, [this] {
    InitializeLlvmOnce();
    std::string error;
    target_ = llvm::TargetRegistry::lookupTarget(triple_, error);
    if (target_ == nullptr) {
      target_status_ = absl::FailedPreconditionError(
          absl::StrCat("LlvmCompiler: no LLVM target for ", triple_, ": ", error));
    }
  });
  return target_status_;
}

absl::StatusOr<std::unique_ptr<llvm::TargetMachine>> LlvmCompiler::TakeTargetMachine() {
  RETURN_IF_ERROR(SetUpTarget());
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<llvm::TargetMachine> tm = std::move(idle_.back());
      idle_.pop_back();
      return tm;
    }
  }
  llvm::TargetOptions to;
  const llvm::CodeGenOpt::Level level =
      opt_level_ >= 3 ? llvm::CodeGenOpt::Aggressive : llvm::CodeGenOpt::Default;
  // PIC: every data reference is RIP-relative, so the object loads at any
  // address without 32-bit absolute relocations.
  std::unique_ptr<llvm::TargetMachine> tm(target_->createTargetMachine(
      triple_, cpu_, features_, to, llvm::Reloc::PIC_, llvm::CodeModel::Small, level));
  if (tm == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("LlvmCompiler: cannot create a target machine for ", triple_, " cpu ", cpu_));
  }
  return tm;
}

void LlvmCompiler::ReturnTargetMachine(std::unique_ptr<llvm::TargetMachine> tm) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(tm));
}

absl::StatusOr<std::string> LlvmCompiler::Compile(absl::string_view name,
                                                  absl::string_view source) {
  llvm::LLVMContext ctx;
  std::vector<std::string> diagnostics;
  ctx.setDiagnosticHandlerCallBack(&CollectDiagnostic, &diagnostics);

  // The IR lexer needs a NUL-terminated buffer: copy.
  std::unique_ptr<llvm::MemoryBuffer> buf = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(source.data(), source.size()), llvm::StringRef(name.data(), name.size()));
  llvm::SMDiagnostic parse_error;
  std::unique_ptr<llvm::Module> m = llvm::parseIR(buf->getMemBufferRef(), parse_error, ctx);
  if (m == nullptr) {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    parse_error.print("", os, /*ShowColors=*/false);
    return absl::InvalidArgumentError(absl::StrCat("llvm-ir of kernel '", name, "': ", os.str()));
  }
  if (!m->getTargetTriple().empty()) {
    llvm::Triple given(m->getTargetTriple()), host(triple_);
    if (given.getArch() != host.getArch() || given.getOS() != host.getOS()) {
      return absl::InvalidArgumentError(absl::StrCat("llvm-ir of kernel '", name, "' targets ",
                                                     m->getTargetTriple(), ", this compiler emits ",
                                                     triple_));
    }
  }
  {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    if (llvm::verifyModule(*m, &os)) {
      return absl::InvalidArgumentError(
          absl::StrCat("llvm-ir of kernel '", name, "' is invalid: ", os.str()));
    }
  }
  RETURN_IF_ERROR(CheckEntry(*m, name));

  ASSIGN_OR_RETURN(std::unique_ptr<llvm::TargetMachine> tm, TakeTargetMachine());
  m->setTargetTriple(triple_);
  m->setDataLayout(tm->createDataLayout());
  // Kernels never unwind: no .eh_frame to emit or load.
  for (llvm::Function& f : *m) {
    if (!f.isDeclaration()) f.addFnAttr(llvm::Attribute::NoUnwind);
  }

  {
    llvm::PipelineTuningOptions pto;
    pto.LoopVectorization = true;
    pto.SLPVectorization = true;
    pto.LoopUnrolling = true;
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(tm.get(), pto);
    llvm::TargetLibraryInfoImpl tlii(llvm::Triple(m->getTargetTriple()));
    tlii.disableAllFunctions();
    fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tlii); });
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    const llvm::OptimizationLevel level = opt_level_ == 1   ? llvm::OptimizationLevel::O1
                                          : opt_level_ == 3 ? llvm::OptimizationLevel::O3
                                                            : llvm::OptimizationLevel::O2;
    llvm::ModulePassManager mpm;
    static const bool force_default = [] {
      const char* e = std::getenv("UOP_LLVM_PIPELINE");
      return e != nullptr && std::string(e) == "default";
    }();
    if (!force_default && source.find(kLeanPipelineHint) != absl::string_view::npos) {
      // The kernel is vectorized and unrolled by codegen already: clean up
      // and hoist, skip the loop/SLP vectorizers, unrolling and indvars
      // (which alone cost 20 ms on a conv kernel's index math).
      if (llvm::Error e = pb.parsePassPipeline(mpm, kLeanPipeline)) {
        return absl::InternalError(
            absl::StrCat("LlvmCompiler: lean pipeline: ", llvm::toString(std::move(e))));
      }
    } else {
      mpm = pb.buildPerModuleDefaultPipeline(level);
    }
    mpm.run(*m, mam);
  }

  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CGFT_ObjectFile)) {
      return absl::InternalError("LlvmCompiler: the target cannot emit object files");
    }
    pm.run(*m);
  }
  ReturnTargetMachine(std::move(tm));
  if (!diagnostics.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("llvm-ir of kernel '", name, "': ", absl::StrJoin(diagnostics, "; ")));
  }
  return std::string(object.data(), object.size());
}

}  // namespace uop
