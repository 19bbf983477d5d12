#include "drivers/am/amdgpu_compiler.h"

#include <vector>

#include "absl/base/call_once.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/CallingConv.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/DiagnosticPrinter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/IRReader/IRReader.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

// Part of CacheKey(): bump when the pipeline or the IR fix-ups change.
constexpr int kPipelineVersion = 1;
constexpr char kTriple[] = "amdgcn-amd-amdhsa";
constexpr unsigned kPrivateAddrSpace = 5;

void InitializeAmdgpuOnce() {
  static absl::once_flag once;
  absl::call_once(once, [] {
    LLVMInitializeAMDGPUTargetInfo();
    LLVMInitializeAMDGPUTarget();
    LLVMInitializeAMDGPUTargetMC();
    LLVMInitializeAMDGPUAsmPrinter();
  });
}

void CollectDiagnostic(const llvm::DiagnosticInfo& info, void* context) {
  if (info.getSeverity() != llvm::DS_Error) return;
  std::string msg;
  llvm::raw_string_ostream os(msg);
  llvm::DiagnosticPrinterRawOStream printer(os);
  info.print(printer);
  static_cast<std::vector<std::string>*>(context)->push_back(os.str());
}

// Allocas parsed without a data layout live in address space 0; on AMDGPU
// the stack is address space 5. Move each one and cast back to generic so
// every use still type-checks (the optimizer removes the casts).
void MoveAllocasToPrivate(llvm::Module& m) {
  std::vector<llvm::AllocaInst*> allocas;
  for (llvm::Function& f : m)
    for (llvm::BasicBlock& bb : f)
      for (llvm::Instruction& i : bb)
        if (auto* a = llvm::dyn_cast<llvm::AllocaInst>(&i))
          if (a->getType()->getAddressSpace() != kPrivateAddrSpace) allocas.push_back(a);
  for (llvm::AllocaInst* a : allocas) {
    llvm::IRBuilder<> b(a);
    llvm::AllocaInst* moved =
        b.CreateAlloca(a->getAllocatedType(), kPrivateAddrSpace, a->getArraySize());
    moved->setAlignment(a->getAlign());
    llvm::Value* generic = b.CreateAddrSpaceCast(moved, a->getType());
    moved->takeName(a);
    a->replaceAllUsesWith(generic);
    a->eraseFromParent();
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<AmdgpuCompiler>> AmdgpuCompiler::Create(const Options& options) {
  if (options.opt_level < 1 || options.opt_level > 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("AmdgpuCompiler: opt_level must be 1, 2 or 3, got ", options.opt_level));
  }
  InitializeAmdgpuOnce();
  std::unique_ptr<AmdgpuCompiler> c(new AmdgpuCompiler());
  c->options_ = options;
  std::string error;
  c->target_ = llvm::TargetRegistry::lookupTarget(kTriple, error);
  if (c->target_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("AmdgpuCompiler: this LLVM has no AMDGPU target: ", error));
  }
  llvm::TargetOptions to;
  std::unique_ptr<llvm::TargetMachine> tm(c->target_->createTargetMachine(
      kTriple, options.arch, "", to, llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOpt::Default));
  if (tm == nullptr || !tm->getMCSubtargetInfo()->isCPUStringValid(options.arch)) {
    return absl::InvalidArgumentError(absl::StrCat("AmdgpuCompiler: LLVM ", LLVM_VERSION_STRING,
                                                   " does not know the AMD GPU '", options.arch,
                                                   "'"));
  }
  c->cache_key_ = absl::StrCat("llvm-", LLVM_VERSION_STRING, ";", kTriple, ";", options.arch, ";O",
                               options.opt_level, ";pipeline=", kPipelineVersion);
  return c;
}

absl::StatusOr<std::string> AmdgpuCompiler::Compile(absl::string_view name,
                                                    absl::string_view source) {
  return CompileWith(name, source, "");
}

absl::StatusOr<std::string> AmdgpuCompiler::CompileWith(absl::string_view name,
                                                        absl::string_view source,
                                                        absl::string_view extra_ir) {
  llvm::LLVMContext ctx;
  std::vector<std::string> diagnostics;
  ctx.setDiagnosticHandlerCallBack(&CollectDiagnostic, &diagnostics);
  const std::string text = absl::StrCat(source, "\n", extra_ir);
  std::unique_ptr<llvm::MemoryBuffer> buf = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(text.data(), text.size()), llvm::StringRef(name.data(), name.size()));
  llvm::SMDiagnostic parse_error;
  std::unique_ptr<llvm::Module> m = llvm::parseIR(buf->getMemBufferRef(), parse_error, ctx);
  if (m == nullptr) {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    parse_error.print("", os, /*ShowColors=*/false);
    return absl::InvalidArgumentError(absl::StrCat("amdgcn IR of kernel '", name, "': ", os.str()));
  }
  if (llvm::Triple(m->getTargetTriple()).getArch() != llvm::Triple::amdgcn) {
    return absl::InvalidArgumentError(absl::StrCat("IR of kernel '", name, "' targets '",
                                                   m->getTargetTriple(), "', not ", kTriple));
  }
  const llvm::Function* f = m->getFunction(llvm::StringRef(name.data(), name.size()));
  if (f == nullptr || f->isDeclaration() ||
      f->getCallingConv() != llvm::CallingConv::AMDGPU_KERNEL) {
    return absl::InvalidArgumentError(absl::StrCat("amdgcn IR has no amdgpu_kernel '", name, "'"));
  }
  llvm::TargetOptions to;
  const llvm::CodeGenOpt::Level level =
      options_.opt_level >= 3 ? llvm::CodeGenOpt::Aggressive : llvm::CodeGenOpt::Default;
  std::unique_ptr<llvm::TargetMachine> tm(target_->createTargetMachine(
      kTriple, options_.arch, "", to, llvm::Reloc::PIC_, std::nullopt, level));
  MoveAllocasToPrivate(*m);
  m->setDataLayout(tm->createDataLayout());
  {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    if (llvm::verifyModule(*m, &os)) {
      return absl::InvalidArgumentError(
          absl::StrCat("amdgcn IR of kernel '", name, "' is invalid: ", os.str()));
    }
  }
  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(tm.get());
    llvm::TargetLibraryInfoImpl tlii(llvm::Triple(m->getTargetTriple()));
    tlii.disableAllFunctions();  // a GPU kernel has no libc to call
    fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tlii); });
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    const llvm::OptimizationLevel ol = options_.opt_level == 1   ? llvm::OptimizationLevel::O1
                                       : options_.opt_level == 2 ? llvm::OptimizationLevel::O2
                                                                 : llvm::OptimizationLevel::O3;
    llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(ol);
    mpm.run(*m, mam);
  }
  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CGFT_ObjectFile)) {
      return absl::InternalError("AmdgpuCompiler: the AMDGPU target cannot emit objects");
    }
    pm.run(*m);
  }
  if (!diagnostics.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("amdgcn IR of kernel '", name, "': ", absl::StrJoin(diagnostics, "; ")));
  }
  return std::string(object.data(), object.size());
}

}  // namespace uop
