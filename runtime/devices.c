/* The device allow-list of an unprivileged container: the devices of its
 * minimal /dev, and mknod of anything (the node is useless without read or
 * write access). Without it, container root (which has CAP_MKNOD by default)
 * could mknod /dev/sda and read the host's disk. v1 takes it as
 * devices.allow lines; v2 needs a small eBPF program attached to the group. */
#include "runtime_internal.h"

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct dev_rule {
	char type; /* 'c' or 'b' */
	int major;
	int minor; /* -1: any */
};

static const struct dev_rule allowed[] = {
	{'c', 1, 3},	/* null */
	{'c', 1, 5},	/* zero */
	{'c', 1, 7},	/* full */
	{'c', 1, 8},	/* random */
	{'c', 1, 9},	/* urandom */
	{'c', 5, 0},	/* tty */
	{'c', 5, 2},	/* ptmx */
	{'c', 136, -1}, /* pts */
};

const char *const rt_device_rules_v1[] = {
	"c *:* m",   "b *:* m",	  "c 1:3 rwm", "c 1:5 rwm",   "c 1:7 rwm", "c 1:8 rwm",
	"c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm", NULL,
};

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define AND_IMM(d, i) INSN(BPF_ALU | BPF_AND | BPF_K, d, 0, 0, i)
#define RSH_IMM(d, i) INSN(BPF_ALU | BPF_RSH | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define JA(o) INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define GOTO_ALLOW_MARK 0x7fff

/* Registers: r2 access bits, r3 device type, r4 major, r5 minor. */
static size_t build_program(struct bpf_insn *p)
{
	size_t n = 0;

	p[n++] = LDX_W(BPF_REG_2, BPF_REG_1, 0); /* access_type */
	p[n++] = MOV_REG(BPF_REG_3, BPF_REG_2);
	p[n++] = AND_IMM(BPF_REG_3, 0xffff);
	p[n++] = RSH_IMM(BPF_REG_2, 16);
	p[n++] = LDX_W(BPF_REG_4, BPF_REG_1, 4); /* major */
	p[n++] = LDX_W(BPF_REG_5, BPF_REG_1, 8); /* minor */
	/* mknod alone is allowed for any device */
	p[n++] = MOV_REG(BPF_REG_6, BPF_REG_2);
	p[n++] = AND_IMM(BPF_REG_6, ~BPF_DEVCG_ACC_MKNOD);
	p[n++] = JEQ_IMM(BPF_REG_6, 0, GOTO_ALLOW_MARK);
	for (size_t i = 0; i < SK_ARRAY_SIZE(allowed); i++) {
		const struct dev_rule *r = &allowed[i];
		int len = r->minor >= 0 ? 4 : 3; /* instructions in this rule */
		int type = r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
		p[n++] = JNE_IMM(BPF_REG_3, type, len - 1);
		p[n++] = JNE_IMM(BPF_REG_4, r->major, len - 2);
		if (r->minor >= 0)
			p[n++] = JNE_IMM(BPF_REG_5, r->minor, 1);
		p[n++] = JA(GOTO_ALLOW_MARK);
	}
	p[n++] = MOV_IMM(BPF_REG_0, 0);
	p[n++] = EXIT();
	size_t allow = n;
	p[n++] = MOV_IMM(BPF_REG_0, 1);
	p[n++] = EXIT();
	for (size_t i = 0; i < allow; i++)
		if (p[i].off == GOTO_ALLOW_MARK)
			p[i].off = (short)(allow - i - 1);
	return n;
}

int rt_devices_bpf_attach(int cgroup_fd, sk_err *err)
{
	struct bpf_insn prog[64];
	size_t n = build_program(prog);
	union bpf_attr attr;
	char log[1024] = "";
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)prog;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t) "MIT";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0 && errno == ENOSPC) { /* log too small: load again without it */
		attr.log_buf = 0;
		attr.log_size = 0;
		attr.log_level = 0;
		fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	}
	if (fd < 0)
		return sk_err_sys(err, errno, "load the device filter (eBPF)%s%s",
				  log[0] ? ": " : "", log);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgroup_fd;
	attr.attach_bpf_fd = (uint32_t)fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0) {
		int e = errno;
		close(fd);
		return sk_err_sys(err, e, "attach the device filter");
	}
	close(fd); /* the attachment holds the program until the group goes */
	return 0;
}
