/*
 * check_auth - password schemes, SASL decoding, throttle, credential
 * cache and `facteur hash`.
 *
 * Known vectors were made with Debian's tools (password "Tr0ub4dor&3",
 * wrong password "Tr0ub4dor&4") and pasted here:
 *   openssl passwd -6 -salt saltsaltsalt PW           SHA512-CRYPT
 *   openssl passwd -6 -salt 'rounds=10000$abcdefgh' PW
 *   openssl passwd -5 -salt Mg4bCk2e PW               SHA256-CRYPT
 *   openssl passwd -1 -salt Xq7.zPw1 PW               MD5-CRYPT
 *   mkpasswd -m bcrypt -R 5 PW                        BLF-CRYPT ($2b$;
 *       the $2y$ row is the same string with the prefix changed, which
 *       libxcrypt and Dovecot treat alike)
 *   mkpasswd -m descrypt -S ab PW                     DES CRYPT
 *   mkpasswd -m yescrypt -R 3 PW                      yescrypt CRYPT
 *   echo -n PW | argon2 somesalt0123 -id -e -t 3 -m 16 -p 1   (64 MiB)
 *   echo -n PW | argon2 somesalt0123 -id -e                   (4 MiB)
 *   echo -n PW | argon2 somesalt0123 -i -e -t 3 -m 12 -p 1
 *   echo -n PW | argon2 somesalt0123 -i -e -v 10 -k 1024 -t 2
 * Salted digests with python3 hashlib and the salt a1b2c3d4e5f60718 (hex):
 *   base64(H(pw + salt).digest() + salt) for H = sha1 (SSHA), sha256,
 *   sha512, md5 (SMD5); unsalted base64(H(pw).digest()) and .hex() for
 *   SHA, SHA256, SHA512, PLAIN-MD5; SHA256 cross-checked with
 *   printf %s PW | openssl dgst -sha256 -binary | base64.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "auth/cache.h"
#include "auth/sasl.h"
#include "auth/scheme.h"
#include "auth/throttle.h"
#include "cli/hash.h"
#include "core/str.h"

#define PW	"Tr0ub4dor&3"
#define STORED_T "{PLAIN}x"
#define BADPW	"Tr0ub4dor&4"

static int
verify(const char *stored, const char *pw)
{
	return pw_verify(stored, pw, strlen(pw));
}

/* ---------------------------------------------------------------- */
/* known vectors: right password 1, wrong password 0 */

static const char *const good_vectors[] = {
	"{SHA512-CRYPT}$6$saltsaltsalt$wZ7WTQLHOnnYzq4PTN4y.RYHTIs/8W/D5s8so46"
	    "fExiMzEnWYOEXbenywVu03CkR7CMzV1o1pSyA7LtNQSgZw.",
	"{SHA512-CRYPT}$6$rounds=10000$abcdefgh$TTbqHst1O2VaSDXZdww3BIRUl6PQ4"
	    "El5Yo1hDwvqNAJaehDeWOV3TP4O50a17zGqTrHT3PygDguNPvmQ7Je3v.",
	"{SHA256-CRYPT}$5$Mg4bCk2e$en1isLjayDJ5ufDYqmNSzvvl7lh6mWf6ksOMsPg/gl7",
	"{MD5-CRYPT}$1$Xq7.zPw1$TdcRUVpiG6ys.kR6M/uw61",
	"{MD5}$1$Xq7.zPw1$TdcRUVpiG6ys.kR6M/uw61",
	"{BLF-CRYPT}$2b$05$ksbZvGjk2T6LfNyMrPLMJ.WGvI2B98HNEzxjks1ZTpA"
	    "bG6oXt.5ca",
	"{BLF-CRYPT}$2y$05$ksbZvGjk2T6LfNyMrPLMJ.WGvI2B98HNEzxjks1ZTpA"
	    "bG6oXt.5ca",
	"{CRYPT}abWL7Sj501Z46",
	"{DES-CRYPT}abWL7Sj501Z46",
	"{CRYPT}$y$j7T$QhuF16OYlkMNXP9yWCSKq/$3yEtRiwauXbGtmQiXiInSYrCI1o7mAYaP"
	    "XZ/U7yS3K.",
	"{CRYPT}$6$saltsaltsalt$wZ7WTQLHOnnYzq4PTN4y.RYHTIs/8W/D5s8so46fExiMzEn"
	    "WYOEXbenywVu03CkR7CMzV1o1pSyA7LtNQSgZw.",
	/* unprefixed crypt(3) strings */
	"$6$saltsaltsalt$wZ7WTQLHOnnYzq4PTN4y.RYHTIs/8W/D5s8so46fExiMzEnWYOEXbe"
	    "nywVu03CkR7CMzV1o1pSyA7LtNQSgZw.",
	"$5$Mg4bCk2e$en1isLjayDJ5ufDYqmNSzvvl7lh6mWf6ksOMsPg/gl7",
	"$1$Xq7.zPw1$TdcRUVpiG6ys.kR6M/uw61",
	"$2y$05$ksbZvGjk2T6LfNyMrPLMJ.WGvI2B98HNEzxjks1ZTpAbG6oXt.5ca",
	/* Argon2 */
	"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHQwMTIz$6afRPV5rVVv2"
	    "w9pY8VNs2+7FsswXtW2rYZNKKMALd5k",
	"{ARGON2ID}$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQwMTIz$v7404bjzUkiIE"
	    "mkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g",
	"{ARGON2I}$argon2i$v=19$m=4096,t=3,p=1$c29tZXNhbHQwMTIz$8wUVmL0l7wSAeVy"
	    "k4C2QHpQCQbfN18DckYavSi2C66Q",
	"{ARGON2I}$argon2i$v=16$m=1024,t=2,p=1$c29tZXNhbHQwMTIz$DvpEAWCMEMppiwk"
	    "TR4BZEenUH5M6hQ5cDL4R0+e1544",
	"$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQwMTIz$v7404bjzUkiIEmkO7mjWyZl"
	    "MY7IQ6a7XjhC/tgpjA0g",
	/* salted digests */
	"{SSHA}Z7rIB/KCnuAXR19PZWnOEaohShihssPU5fYHGA==",
	"{SSHA.HEX}67bac807f2829ee017475f4f6569ce11aa214a18a1b2c3d4e5f60718",
	"{SSHA256}yxyQ7VKq60L3P/vRh6yArWH5zBVDYv39KlGwJC2Fn1+hssPU5fYHGA==",
	"{SSHA256.hex}cb1c90ed52aaeb42f73ffbd187ac80ad61f9cc154362fdfd2a51b0242"
	    "d859f5fa1b2c3d4e5f60718",
	"{SSHA512}kfpG7Xj/VlE325qZGh5uVyw0wxhr/+0rA+EBcfUQ+MM1osHo+D6TKuph8pOdr"
	    "drtycv2G6gqNduRBntVr5LbpqGyw9Tl9gcY",
	"{SSHA512.b64}kfpG7Xj/VlE325qZGh5uVyw0wxhr/+0rA+EBcfUQ+MM1osHo+D6TKuph8"
	    "pOdrdrtycv2G6gqNduRBntVr5LbpqGyw9Tl9gcY",
	"{SMD5}vsalHVY4dZ4chfsGXJ4qwqGyw9Tl9gcY",
	/* unsalted digests, base64, hex by suffix and hex by length */
	"{SHA}h0Vy56WuaklGamrFeLmK26eMaqY=",
	"{SHA1}h0Vy56WuaklGamrFeLmK26eMaqY=",
	"{SHA.HEX}874572e7a5ae6a49466a6ac578b98adba78c6aa6",
	"{SHA}874572e7a5ae6a49466a6ac578b98adba78c6aa6",
	"{SHA256}SEhuFRToQjRv9AWx5F9EBZroJhnyMG+Z0JQNyzhukfc=",
	"{SHA256.BASE64}SEhuFRToQjRv9AWx5F9EBZroJhnyMG+Z0JQNyzhukfc=",
	"{SHA256.HEX}48486e1514e842346ff405b1e45f44059ae82619f2306f99d0940dcb38"
	    "6e91f7",
	"{SHA512}xyu2IccEDPS2R0BjqaeXJpDiUvNa2+fPr/Wx7iMW7+c4LnI9QeATor+8M8MAfF"
	    "DFhH0hqInM6DhTbqxyeAjeQA==",
	"{SHA512.hex}c72bb621c7040cf4b6474063a9a7972690e252f35adbe7cfaff5b1ee23"
	    "16efe7382e723d41e013a2bfbc33c3007c50c5847d21a889cce838536eac727808"
	    "de40",
	"{PLAIN-MD5}4ece57a61323b52ccffdbef021956754",
	"{MD5}4ece57a61323b52ccffdbef021956754",
	"{LDAP-MD5}Ts5XphMjtSzP/b7wIZVnVA==",
	/* SCRAM entries as Dovecot stores them (python3 hashlib.pbkdf2_hmac,
	 * hmac; salt 00112233445566778899aabbccddeeff) */
	"{SCRAM-SHA-1}4096,ABEiM0RVZneImaq7zN3u/w==,u9bzm01oU/JpEc26On2GwGYOm"
	    "Xo=,ydkjQzP2YL2ttPm5cch9nuLl/8c=",
	"{SCRAM-SHA-256}4096,ABEiM0RVZneImaq7zN3u/w==,JuTt10kPYEBNPRj1JnTYr2H"
	    "JLt3gY3wH/37PBKcHGhw=,1YcR1Oh5gJ2iSueUHDetziUgYETJ5TgyG79l1p/"
	    "bMsE=",
	"{scram-sha-256}10000,ABEiM0RVZneImaq7zN3u/w==,trrTBRfLR3FqGrxbshzBPT"
	    "jXI3pA1pKbqQ1eTXkXy3Y=,8f8zbuvIVUxUEobyxBjSxRJN9lVZr7ZgVSdsds"
	    "F5s3A=",
	/* clear text */
	"{PLAIN}" PW,
	"{CLEAR}" PW,
	"{CLEARTEXT}" PW,
	"{PLAIN.B64}VHIwdWI0ZG9yJjM=",
	/* scheme names are case-insensitive */
	"{sha512-crypt}$6$saltsaltsalt$wZ7WTQLHOnnYzq4PTN4y.RYHTIs/8W/D5s8so46f"
	    "ExiMzEnWYOEXbenywVu03CkR7CMzV1o1pSyA7LtNQSgZw.",
	"{Blf-Crypt}$2y$05$ksbZvGjk2T6LfNyMrPLMJ.WGvI2B98HNEzxjks1ZTpA"
	    "bG6oXt.5ca",
	"{argon2id}$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQwMTIz$v7404bjzUkiIE"
	    "mkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g",
	"{Ssha512}kfpG7Xj/VlE325qZGh5uVyw0wxhr/+0rA+EBcfUQ+MM1osHo+D6TKuph8pOdr"
	    "drtycv2G6gqNduRBntVr5LbpqGyw9Tl9gcY",
	"{plain}" PW,
};

START_TEST(test_vector_right)
{
	const char *v = good_vectors[_i];

	ck_assert_msg(verify(v, PW) == 1, "right password refused: %s", v);
	/* the password is a length, not a C string */
	ck_assert_msg(pw_verify(v, PW "#garbage", strlen(PW)) == 1,
	    "unterminated password refused: %s", v);
}
END_TEST

START_TEST(test_vector_wrong)
{
	const char *v = good_vectors[_i];

	ck_assert_msg(verify(v, "x" PW) == 0, "wrong password: %s", v);
	ck_assert_msg(verify(v, "") == 0, "empty password: %s", v);
	if (strstr(v, "abWL7Sj501Z46") != NULL)
		return;		/* DES reads only the first 8 characters */
	ck_assert_msg(verify(v, BADPW) == 0, "wrong password: %s", v);
	ck_assert_msg(verify(v, PW "x") == 0, "longer password: %s", v);
}
END_TEST

/* ---------------------------------------------------------------- */
/* malformed stored strings and unknown schemes: -1 */

static const char *const bad_vectors[] = {
	"",
	PW,					/* no scheme at all */
	"{UNKNOWN}abc",
	"{SHA256.ROT13}SEhuFRToQjRv9AWx5F9EBZroJhnyMG+Z0JQNyzhukfc=",
	"{SHA256",
	"{}abc",
	"{SHA256}",
	"{SHA256}SEhuFRToQjRv9AWx5F9EBZroJhnyMG+Z0JQNyzhukf",	/* truncated */
	"{SHA256}SEhuFRToQjRv9AWx5F9EBZroJhnyMG+Z0JQNyzhu",	/* short */
	"{SHA256}SEhu!RToQjRv9AWx5F9EBZroJhnyMG+Z0JQNyzhukfc=",	/* bad b64 */
	"{SHA256.HEX}48486e1514e842346ff405b1e45f44059ae82619f2306f99"
	    "d0940dcbzz",
	"{SHA}h0Vy56WuaklGamrFeLmK26eMaqY=AAAA",
	"{SSHA}h0Vy56WuaklGamrFeLmK26eMaqY=",	/* digest without salt */
	"{SSHA512}kfpG7Xj/VlE325qZ",
	"{SMD5}",
	"{PLAIN.XYZ}" PW,
	"{PLAIN.B64}VHIwdWI0ZG9yJjM",
	"{CRYPT}",
	"{CRYPT}abWL7Sj501Z4",			/* DES too short */
	"{CRYPT}abWL7Sj501Z4!",
	/* wrong family */
	"{DES-CRYPT}$1$Xq7.zPw1$TdcRUVpiG6ys.kR6M/uw61",
	"{SHA256-CRYPT}$6$saltsaltsalt$wZ7WTQLHOnnYzq4PTN4y.RYHTIs/8W/D5s8so4"
	    "6fExiMzEnWYOEXbenywVu03CkR7CMzV1o1pSyA7LtNQSgZw.",
	"{SHA512-CRYPT}$6$saltsaltsalt$wZ7WTQLHOnnYzq4PTN4y",	/* truncated */
	"{SHA512-CRYPT}$6$saltsaltsalt$",
	"{SHA512-CRYPT}$6$saltsaltsalt",
	"{SHA512-CRYPT}$6$rounds=999999999$abcdefgh$TTbqHst1O2VaSDXZdww3BIRUl"
	    "6PQ4El5Yo1hDwvqNAJaehDeWOV3TP4O50a17zGqTrHT3PygDguNPvmQ7Je3v.",
	"{SHA512-CRYPT}$6$rounds=$abcdefgh$TTbqHst1O2VaSDXZdww3BIRUl6PQ4El5Yo1h"
	    "DwvqNAJaehDeWOV3TP4O50a17zGqTrHT3PygDguNPvmQ7Je3v.",
	"{MD5-CRYPT}$1$Xq7.zPw1$TdcRUVpiG6ys.kR6M/uw6",
	"{BLF-CRYPT}$2b$05$ksbZvGjk2T6LfNyMrPLMJ.WGvI2B98HNEzxjks1ZTpAbG6oXt.5",
	"{BLF-CRYPT}$2b$31$ksbZvGjk2T6LfNyMrPLMJ.WGvI2B98HNEzxjks1ZTpA"
	    "bG6oXt.5ca",
	"{BLF-CRYPT}$2q$05$ksbZvGjk2T6LfNyMrPLMJ.WGvI2B98HNEzxjks1ZTpA"
	    "bG6oXt.5ca",
	"{BLF-CRYPT}$2b$5$ksbZvGjk2T6LfNyMrPLMJ.WGvI2B98HNEzxjks1ZTpA"
	    "bG6oXt.5ca",
	"{CRYPT}$7$CU..../....2NSGMDDrfgJkvBQSBqpZ/.$ElITM6pvLkEx5yZUr9mCSx0g.F"
	    /* scrypt: refused */
	    "nQK94aEoxCD4bOHF1",
	"{CRYPT}_J9..CCCCXBrJUJV154M",			/* BSDi: refused */
	"{CRYPT}$y$jZT$QhuF16OYlkMNXP9yWCSKq/$3yEtRiwauXbGtmQiXiInSYrCI1o7mAYaP"
	    "XZ/U7yS3K.",				/* yescrypt N too big */
	"$6$",
	"$",
	"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHQwMTIz",
	"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHQwMTIz$",
	"{ARGON2ID}$argon2id$v=19$m=4194304,t=3,p=1$c29tZXNhbHQwMTIz$v7404bjzUk"
	    "iIEmkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g",	/* 4 GiB */
	"{ARGON2ID}$argon2id$v=19$m=4096,t=99,p=1$c29tZXNhbHQwMTIz$v7404bjzUkiI"
	    "EmkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g",
	"{ARGON2ID}$argon2id$v=19$m=4096,t=3,p=0$c29tZXNhbHQwMTIz$v7404bjzUkiIE"
	    "mkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g",
	"{ARGON2ID}$argon2id$v=18$m=4096,t=3,p=1$c29tZXNhbHQwMTIz$v7404bjzUkiIE"
	    "mkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g",
	"{ARGON2ID}$argon2d$v=19$m=4096,t=3,p=1$c29tZXNhbHQwMTIz$v7404bjzUkiIEm"
	    "kO7mjWyZlMY7IQ6a7XjhC/tgpjA0g",
	"{ARGON2ID}$argon2id$v=19$m=4096,t=3,p=1$c29t!!NhbHQwMTIz$v7404bjzUkiIE"
	    "mkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g",
	"{ARGON2ID}$argon2id$v=19$m=4096,t=3$c29tZXNhbHQwMTIz$v7404bjzUkiIEmkO7"
	    "mjWyZlMY7IQ6a7XjhC/tgpjA0g",
	"{ARGON2ID}$argon2id$v=19$m=04096,t=3,p=1$c29tZXNhbHQwMTIz$v7404bjzUkiI"
	    "EmkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g",
	"{ARGON2ID}$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQwMTIz$v7404bjzUkiIE"
	    "mkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g==",		/* padding not PHC */
	"{ARGON2ID.HEX}$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQwMTIz$v7404bjzU"
	    "kiIEmkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g",
	"{ARGON2ID}",
	/* 3 fields */
	"{SCRAM-SHA-256}4096,ABEiM0RVZneImaq7zN3u/w==,JuTt10kPYEBNPRj1JnTYr2HJ"
	    "Lt3gY3wH/37PBKcHGhw=",
	/* 5 fields */
	"{SCRAM-SHA-256}4096,ABEiM0RVZneImaq7zN3u/w==,JuTt10kPYEBNPRj1JnTYr2HJ"
	    "Lt3gY3wH/37PBKcHGhw=,1YcR1Oh5gJ2iSueUHDetziUgYETJ5TgyG79l1p/bMsE="
	    ",",
	/* iter < 4096 */
	"{SCRAM-SHA-256}1000,ABEiM0RVZneImaq7zN3u/w==,JuTt10kPYEBNPRj1JnTYr2HJ"
	    "Lt3gY3wH/37PBKcHGhw=,1YcR1Oh5gJ2iSueUHDetziUgYETJ5TgyG79l1p/bMsE=",
	/* iter too big */
	"{SCRAM-SHA-256}99999999,ABEiM0RVZneImaq7zN3u/w==,JuTt10kPYEBNPRj1JnTY"
	    "r2HJLt3gY3wH/37PBKcHGhw=,1YcR1Oh5gJ2iSueUHDetziUgYETJ5TgyG79l1p/b"
	    "MsE=",
	/* SHA-256 keys */
	"{SCRAM-SHA-1}4096,ABEiM0RVZneImaq7zN3u/w==,JuTt10kPYEBNPRj1JnTYr2HJLt"
	    "3gY3wH/37PBKcHGhw=,1YcR1Oh5gJ2iSueUHDetziUgYETJ5TgyG79l1p/bMsE=",
	/* no salt */
	"{SCRAM-SHA-256}4096,,JuTt10kPYEBNPRj1JnTYr2HJLt3gY3wH/37PBKcHGhw=,1Yc"
	    "R1Oh5gJ2iSueUHDetziUgYETJ5TgyG79l1p/bMsE=",
	/* bad base64 */
	"{SCRAM-SHA-256}4096,ABEiM0RVZneImaq7zN3u/w==,JuTt10kPYEBNPRj1JnTYr2HJ"
	    "Lt3gY3wH/37PBKcHGhw,1YcR1Oh5gJ2iSueUHDetziUgYETJ5TgyG79l1p/bMsE=",
	"{SHA512-CRYPT}" PW,
};

START_TEST(test_vector_bad)
{
	const char *v = bad_vectors[_i];

	ck_assert_msg(verify(v, PW) == -1, "not refused: %s", v);
	ck_assert_msg(verify(v, BADPW) == -1, "not refused: %s", v);
}
END_TEST

START_TEST(test_verify_edge)
{
	char big[3000];

	/* NULL stored, overlong stored */
	ck_assert_int_eq(pw_verify(NULL, PW, strlen(PW)), -1);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{PLAIN}", 7);
	ck_assert_int_eq(verify(big, PW), -1);
	/* a NUL inside the password never matches, never truncates */
	ck_assert_int_eq(pw_verify("{PLAIN}ab", "ab\0c", 4), 0);
	ck_assert_int_eq(pw_verify("{PLAIN}ab", "a\0", 2), 0);
	ck_assert_int_eq(pw_verify("{SHA512-CRYPT}$6$saltsaltsalt$wZ7WTQLHOnnYz"
	    "q4PTN4y.RYHTIs/8W/D5s8so46fExiMzEnWYOEXbenywVu03CkR7CMzV1o1pSyA7Lt"
	    "NQSgZw.", PW "\0x", strlen(PW) + 2), 0);
	/* the length is respected, not strlen */
	ck_assert_int_eq(pw_verify("{PLAIN}Tr0", PW, 3), 1);
	ck_assert_int_eq(pw_verify("{SHA}h0Vy56WuaklGamrFeLmK26eMaqY=", PW,
	    strlen(PW) - 1), 0);
}
END_TEST

START_TEST(test_limits)
{
	struct pw_limits saved, l;
	const char *blf = "{BLF-CRYPT}$2b$05$ksbZvGjk2T6LfNyMrPLMJ.WGvI2B98HNEz"
	    "xjks1ZTpAbG6oXt.5ca";
	const char *a2 = "{ARGON2ID}$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQw"
	    "MTIz$v7404bjzUkiIEmkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g";

	pw_get_limits(&saved);
	ck_assert_uint_eq(saved.argon2_budget_kib, 2 * 65536);
	l = saved;
	l.bcrypt_max_cost = 4;
	l.argon2_max_kib = 1024;
	pw_set_limits(&l);
	ck_assert_int_eq(verify(blf, PW), -1);
	ck_assert_int_eq(verify(a2, PW), -1);
	pw_set_limits(&saved);
	ck_assert_int_eq(verify(blf, PW), 1);
	ck_assert_int_eq(verify(a2, PW), 1);
}
END_TEST

/* ---------------------------------------------------------------- */
/* pw_hash round trips */

static const char *const hash_schemes[] = {
	"ARGON2ID", "ARGON2I", "SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT",
	"SSHA512", "SSHA256", "PLAIN",
};

START_TEST(test_hash_roundtrip)
{
	const char *s = hash_schemes[_i];
	const char *err = NULL;
	char prefix[32];
	char *h, *h2;

	h = pw_hash(s, PW "#garbage", strlen(PW), &err);
	ck_assert_msg(h != NULL, "%s: %s", s, err ? err : "?");
	snprintf(prefix, sizeof(prefix), "{%s}", s);
	ck_assert_msg(strncmp(h, prefix, strlen(prefix)) == 0, "%s", h);
	ck_assert_int_eq(verify(h, PW), 1);
	ck_assert_int_eq(verify(h, BADPW), 0);
	ck_assert_int_eq(verify(h, ""), 0);
	/* fresh salt each time (PLAIN has none) */
	h2 = pw_hash(s, PW, strlen(PW), &err);
	ck_assert_ptr_nonnull(h2);
	if (strcmp(s, "PLAIN") != 0)
		ck_assert_str_ne(h, h2);
	ck_assert_int_eq(pw_is_current(h), strcmp(s, "ARGON2ID") == 0);
	free(h);
	free(h2);
}
END_TEST

START_TEST(test_hash_formats)
{
	const char *err = NULL;
	char *h;

	/* the default is ARGON2ID with Dovecot's parameters */
	h = pw_hash(NULL, PW, strlen(PW), &err);
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(strncmp(h, "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$",
	    41) == 0, "%s", h);
	/* 16-byte salt, 32-byte tag: 22 + 43 unpadded base64 chars */
	ck_assert_uint_eq(strlen(h), 41 + 22 + 1 + 43);
	free(h);
	h = pw_hash("argon2i", PW, strlen(PW), &err);
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(strncmp(h, "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$",
	    39) == 0, "%s", h);
	ck_assert(!pw_is_current(h));
	free(h);
	h = pw_hash("blf-crypt", PW, strlen(PW), &err);
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(strncmp(h, "{BLF-CRYPT}$2y$10$", 18) == 0, "%s", h);
	free(h);
	h = pw_hash("sha512-crypt", PW, strlen(PW), &err);
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(strncmp(h, "{SHA512-CRYPT}$6$", 17) == 0, "%s", h);
	free(h);
	h = pw_hash("ssha512", PW, strlen(PW), &err);
	ck_assert_ptr_nonnull(h);
	/* base64 of 64-byte digest + 16-byte salt */
	ck_assert_uint_eq(strlen(h), strlen("{SSHA512}") + 108);
	free(h);
	h = pw_hash("PLAIN", PW, strlen(PW), &err);
	ck_assert_str_eq(h, "{PLAIN}" PW);
	free(h);
}
END_TEST

START_TEST(test_hash_refused)
{
	const char *err = NULL;

	ck_assert_ptr_null(pw_hash("BOGUS", PW, strlen(PW), &err));
	ck_assert_ptr_nonnull(err);
	err = NULL;
	ck_assert_ptr_null(pw_hash("MD5-CRYPT", PW, strlen(PW), &err));
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_null(pw_hash("SHA", PW, strlen(PW), &err));
	ck_assert_ptr_null(pw_hash("SSHA512.HEX", PW, strlen(PW), &err));
	ck_assert_ptr_null(pw_hash("PLAIN", "a\0b", 3, &err));
	ck_assert(pw_hash_supported(NULL));
	ck_assert(pw_hash_supported("ssha256"));
	ck_assert(!pw_hash_supported("CRYPT"));
	ck_assert(!pw_is_current(NULL));
	ck_assert(!pw_is_current("{SHA512-CRYPT}$6$x$y"));
	ck_assert(!pw_is_current("{ARGON2ID}$argon2id$v=19$m=4096,t=3,p=1$c29t"
	    "ZXNhbHQwMTIz$v7404bjzUkiIEmkO7mjWyZlMY7IQ6a7XjhC/tgpjA0g"));
	ck_assert(pw_is_current("{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c29t"
	    "ZXNhbHQwMTIz$6afRPV5rVVv2w9pY8VNs2+7FsswXtW2rYZNKKMALd5k"));
}
END_TEST

/* several threads through the Argon2 memory budget at once */
static const char *const argon_stored =
    "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHQwMTIz$6afRPV5rVVv2"
    "w9pY8VNs2+7FsswXtW2rYZNKKMALd5k";

static void *
argon_thread(void *arg)
{
	int *res = arg;

	res[0] = verify(argon_stored, PW);
	res[1] = verify(argon_stored, BADPW);
	return NULL;
}

START_TEST(test_argon2_concurrent)
{
	struct pw_limits saved, l;
	pthread_t th[4];
	int res[4][2];
	int i;

	pw_get_limits(&saved);
	l = saved;
	l.argon2_budget_kib = 65536;	/* one at a time */
	pw_set_limits(&l);
	(void)pw_argon2_peak(true);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, argon_thread,
		    res[i]), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(res[i][0], 1);
		ck_assert_int_eq(res[i][1], 0);
	}
	ck_assert_uint_eq(pw_argon2_peak(true), 65536);
	/* the default budget lets two run together, never three */
	pw_set_limits(&saved);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, argon_thread,
		    res[i]), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(res[i][0], 1);
	}
	ck_assert_uint_le(pw_argon2_peak(false), 2 * 65536);
}
END_TEST

/* ---------------------------------------------------------------- */
/* SASL */

static char *
b64(const void *p, size_t n)
{
	char *s = malloc(base64_encoded_len(n) + 1);

	base64_encode(p, n, s);
	return s;
}

static int
plain(const void *raw, size_t n, struct sasl_plain *r)
{
	char *s = b64(raw, n);
	int ret = sasl_plain_decode(s, strlen(s), r);

	free(s);
	return ret;
}

START_TEST(test_sasl_plain_valid)
{
	struct sasl_plain r;
	static const char m1[] = "\0alice@example.org\0" PW;
	static const char m2[] = "admin\0alice\0p\xc3\xa4ss word";

	ck_assert_int_eq(plain(m1, sizeof(m1) - 1, &r), 0);
	ck_assert_str_eq(r.authzid, "");
	ck_assert_str_eq(r.authcid, "alice@example.org");
	ck_assert_str_eq(r.passwd, PW);
	ck_assert_uint_eq(r.passwd_len, strlen(PW));
	sasl_wipe(&r);
	ck_assert_str_eq(r.passwd, "");
	ck_assert_uint_eq(r.passwd_len, 0);

	ck_assert_int_eq(plain(m2, sizeof(m2) - 1, &r), 0);
	ck_assert_str_eq(r.authzid, "admin");
	ck_assert_str_eq(r.authcid, "alice");
	ck_assert_str_eq(r.passwd, "p\xc3\xa4ss word");
	ck_assert_uint_eq(r.passwd_len, 10);

	/* the RFC 4616 example, as a client sends it */
	ck_assert_int_eq(sasl_plain_decode("AHRpbQB0YW5zdGFhZnRhbnN0YWFm", 28,
	    &r), 0);
	ck_assert_str_eq(r.authzid, "");
	ck_assert_str_eq(r.authcid, "tim");
	ck_assert_str_eq(r.passwd, "tanstaaftanstaaf");
	sasl_wipe(&r);
}
END_TEST

struct sasl_bad {
	const char	*name;
	const char	*raw;
	size_t		 len;
};

static const struct sasl_bad sasl_bad_cases[] = {
	{ "no NUL", "alicepass", 9 },
	{ "one NUL", "alice\0pass", 10 },
	{ "empty authcid", "\0\0pass", 6 },
	{ "empty authcid with authzid", "bob\0\0pass", 9 },
	{ "empty passwd", "\0alice\0", 7 },
	{ "third NUL", "\0alice\0pa\0ss", 12 },
	{ "ctl in authcid", "\0al\nice\0pass", 12 },
	{ "ctl in authzid", "a\rb\0alice\0pass", 14 },
	{ "DEL in authcid", "\0al\x7fice\0pass", 12 },
	{ "only NULs", "\0\0", 2 },
};

START_TEST(test_sasl_plain_bad)
{
	const struct sasl_bad *c = &sasl_bad_cases[_i];
	struct sasl_plain r;

	ck_assert_msg(plain(c->raw, c->len, &r) == -1, "%s", c->name);
	/* nothing left behind on failure */
	ck_assert_str_eq(r.passwd, "");
	ck_assert_str_eq(r.authcid, "");
}
END_TEST

START_TEST(test_sasl_plain_b64)
{
	struct sasl_plain r;

	ck_assert_int_eq(sasl_plain_decode("=", 1, &r), -1);
	ck_assert_int_eq(sasl_plain_decode("", 0, &r), -1);
	ck_assert_int_eq(sasl_plain_decode(NULL, 0, &r), -1);
	/* missing padding, whitespace, bad characters, data after '=' */
	ck_assert_int_eq(sasl_plain_decode("AHRpbQB0YW5zdGFhbnRhbmc", 23, &r),
	    -1);
	ck_assert_int_eq(sasl_plain_decode("AHRpbQB0 W5zdGFhbnRhbmc=", 24, &r),
	    -1);
	ck_assert_int_eq(sasl_plain_decode("AHRpbQB0*W5zdGFhbnRhbmc=", 24, &r),
	    -1);
	ck_assert_int_eq(sasl_plain_decode("AHRpbQB0YW5z=GFhbnRhbmc=", 24, &r),
	    -1);
	/* the length given is used, not strlen: a NUL inside is bad b64 */
	ck_assert_int_eq(sasl_plain_decode("AHRpbQB0\0W5zdGFhbnRhbmc=", 24, &r),
	    -1);
}
END_TEST

START_TEST(test_sasl_plain_lengths)
{
	char raw[3 * SASL_FIELD_MAX + 8];
	struct sasl_plain r;
	size_t n;

	/* authcid of SASL_FIELD_MAX - 1 bytes fits, one more does not */
	raw[0] = '\0';
	memset(raw + 1, 'u', SASL_FIELD_MAX - 1);
	raw[SASL_FIELD_MAX] = '\0';
	memcpy(raw + SASL_FIELD_MAX + 1, "pw", 2);
	n = SASL_FIELD_MAX + 3;
	ck_assert_int_eq(plain(raw, n, &r), 0);
	ck_assert_uint_eq(strlen(r.authcid), SASL_FIELD_MAX - 1);

	raw[0] = '\0';
	memset(raw + 1, 'u', SASL_FIELD_MAX);
	raw[SASL_FIELD_MAX + 1] = '\0';
	memcpy(raw + SASL_FIELD_MAX + 2, "pw", 2);
	ck_assert_int_eq(plain(raw, SASL_FIELD_MAX + 4, &r), -1);

	/* overlong password and authzid */
	memcpy(raw, "\0u\0", 3);
	memset(raw + 3, 'p', SASL_FIELD_MAX);
	ck_assert_int_eq(plain(raw, 3 + SASL_FIELD_MAX, &r), -1);
	ck_assert_int_eq(plain(raw, 3 + SASL_FIELD_MAX - 1, &r), 0);
	ck_assert_uint_eq(r.passwd_len, SASL_FIELD_MAX - 1);
	memset(raw, 'z', SASL_FIELD_MAX);
	memcpy(raw + SASL_FIELD_MAX, "\0u\0p", 4);
	ck_assert_int_eq(plain(raw, SASL_FIELD_MAX + 4, &r), -1);

	/* all three fields full: the largest valid message */
	memset(raw, 'a', sizeof(raw));
	raw[SASL_FIELD_MAX - 1] = '\0';
	raw[2 * SASL_FIELD_MAX - 1] = '\0';
	ck_assert_int_eq(plain(raw, 3 * SASL_FIELD_MAX - 1, &r), 0);
	/* one byte more anywhere is refused, before or after decoding */
	ck_assert_int_eq(plain(raw, 3 * SASL_FIELD_MAX, &r), -1);
	ck_assert_int_eq(plain(raw, 3 * SASL_FIELD_MAX + 6, &r), -1);
	sasl_wipe(&r);
}
END_TEST

START_TEST(test_sasl_login_field)
{
	char dst[16];

	ck_assert_int_eq(sasl_b64_field("dXNlcg==", 8, dst, sizeof(dst)), 4);
	ck_assert_str_eq(dst, "user");
	ck_assert_int_eq(sasl_b64_field("", 0, dst, sizeof(dst)), 0);
	ck_assert_str_eq(dst, "");
	/* exactly 15 bytes fit in 16, 16 do not */
	ck_assert_int_eq(sasl_b64_field("MTIzNDU2Nzg5MDEyMzQ1", 20, dst,
	    sizeof(dst)), 15);
	ck_assert_str_eq(dst, "123456789012345");
	ck_assert_int_eq(sasl_b64_field("MTIzNDU2Nzg5MDEyMzQ1Ng==", 24, dst,
	    sizeof(dst)), -1);
	ck_assert_int_eq(sasl_b64_field("dXNlcg", 6, dst, sizeof(dst)), -1);
	ck_assert_int_eq(sasl_b64_field("dX*lcg==", 8, dst, sizeof(dst)), -1);
	ck_assert_int_eq(sasl_b64_field("dQB1", 4, dst, sizeof(dst)), -1);
	ck_assert_int_eq(sasl_b64_field("dXNlcg==", 8, dst, 0), -1);
	ck_assert_int_eq(sasl_b64_field("dXNlcg==", 8, dst, 4), -1);
}
END_TEST

/* ---------------------------------------------------------------- */
/* throttle */

START_TEST(test_throttle_account)
{
	throttle_reset_all();
	throttle_configure_full(3, 100, 60, 900, 0);
	ck_assert(!throttle_blocked("192.0.2.1", "alice"));
	throttle_fail("192.0.2.1", "alice");
	throttle_fail("192.0.2.2", "alice");
	ck_assert(!throttle_blocked("192.0.2.3", "alice"));
	throttle_fail("192.0.2.3", "Alice");	/* same account */
	ck_assert(throttle_blocked("192.0.2.9", "alice"));
	ck_assert(throttle_blocked(NULL, "ALICE"));
	ck_assert(!throttle_blocked("192.0.2.1", "bob"));
	ck_assert(!throttle_blocked("192.0.2.1", NULL));
	throttle_reset_all();
	ck_assert(!throttle_blocked("192.0.2.1", "alice"));
}
END_TEST

START_TEST(test_throttle_ip)
{
	char acct[32];
	int i;

	throttle_reset_all();
	throttle_configure_full(100, 4, 60, 900, 0);
	for (i = 0; i < 3; i++) {
		snprintf(acct, sizeof(acct), "user%d", i);
		throttle_fail("198.51.100.7", acct);
	}
	ck_assert(!throttle_blocked("198.51.100.7", "other"));
	throttle_fail("198.51.100.7", NULL);
	ck_assert(throttle_blocked("198.51.100.7", "other"));
	ck_assert(throttle_blocked("198.51.100.7", NULL));
	ck_assert(!throttle_blocked("198.51.100.8", "user0"));
	/* a success clears the account, not the IP */
	throttle_success("198.51.100.7", "user0");
	ck_assert(throttle_blocked("198.51.100.7", "user0"));
}
END_TEST

START_TEST(test_throttle_default_ratio)
{
	int i;

	throttle_reset_all();
	throttle_configure(2, 60);	/* account 2, IP 4 */
	throttle_fail("203.0.113.1", "a");
	ck_assert(!throttle_blocked("203.0.113.1", "a"));
	throttle_fail("203.0.113.1", "a");
	ck_assert(throttle_blocked(NULL, "a"));
	ck_assert(!throttle_blocked("203.0.113.1", "b"));
	for (i = 0; i < 2; i++)
		throttle_fail("203.0.113.1", NULL);
	ck_assert(throttle_blocked("203.0.113.1", "b"));
}
END_TEST

START_TEST(test_throttle_success_clears)
{
	throttle_reset_all();
	throttle_configure_full(3, 100, 60, 900, 0);
	throttle_fail("192.0.2.1", "carol");
	throttle_fail("192.0.2.1", "carol");
	throttle_success("192.0.2.1", "carol");
	throttle_fail("192.0.2.1", "carol");
	throttle_fail("192.0.2.1", "carol");
	ck_assert(!throttle_blocked("192.0.2.1", "carol"));
	throttle_fail("192.0.2.1", "carol");
	ck_assert(throttle_blocked("192.0.2.1", "carol"));
}
END_TEST

START_TEST(test_throttle_expiry_and_decay)
{
	throttle_reset_all();
	/* block for 1 s */
	throttle_configure_full(2, 100, 1, 900, 0);
	throttle_fail("192.0.2.1", "dave");
	throttle_fail("192.0.2.1", "dave");
	ck_assert(throttle_blocked(NULL, "dave"));
	usleep(1200 * 1000);
	ck_assert(!throttle_blocked(NULL, "dave"));
	/* a 1 s window: failures a second apart leak away */
	throttle_reset_all();
	throttle_configure_full(3, 100, 60, 1, 0);
	throttle_fail(NULL, "erin");
	throttle_fail(NULL, "erin");
	usleep(1100 * 1000);
	throttle_fail(NULL, "erin");
	throttle_fail(NULL, "erin");
	ck_assert(!throttle_blocked(NULL, "erin"));
	throttle_fail(NULL, "erin");
	ck_assert(throttle_blocked(NULL, "erin"));
}
END_TEST

START_TEST(test_throttle_ipv6)
{
	throttle_reset_all();
	throttle_configure_full(100, 2, 60, 900, 0);
	/* one /64 counts as one client */
	throttle_fail("2001:db8:1:2::1", NULL);
	throttle_fail("2001:db8:1:2:aaaa:bbbb:cccc:dddd", NULL);
	ck_assert(throttle_blocked("2001:db8:1:2::99", NULL));
	ck_assert(!throttle_blocked("2001:db8:1:3::1", NULL));
	/* IPv4-mapped is IPv4 */
	throttle_fail("::ffff:192.0.2.44", NULL);
	throttle_fail("192.0.2.44", NULL);
	ck_assert(throttle_blocked("192.0.2.44", NULL));
	ck_assert(throttle_blocked("::ffff:192.0.2.44", NULL));
	/* junk is a key like any other */
	throttle_fail("not an address", NULL);
	ck_assert(!throttle_blocked("not an address", NULL));
}
END_TEST

START_TEST(test_throttle_bounded)
{
	char acct[32];
	int i;

	throttle_reset_all();
	throttle_configure_full(2, 1000000, 60, 900, 8);
	throttle_fail(NULL, "victim");
	throttle_fail(NULL, "victim");
	ck_assert(throttle_blocked(NULL, "victim"));
	/* a flood of other names evicts unblocked keys, not the block */
	for (i = 0; i < 5000; i++) {
		snprintf(acct, sizeof(acct), "flood%d", i);
		throttle_fail("192.0.2.1", acct);
	}
	ck_assert(throttle_blocked(NULL, "victim"));
	/* early flood keys are gone: their single failure is forgotten */
	throttle_fail(NULL, "flood0");
	ck_assert(!throttle_blocked(NULL, "flood0"));
	throttle_configure_full(10, 20, 300, 900, 0);
	throttle_reset_all();
}
END_TEST

static void *
throttle_thread(void *arg)
{
	char ip[32], acct[32];
	int id = *(int *)arg, i;

	for (i = 0; i < 2000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", id, i / 250, i % 250);
		snprintf(acct, sizeof(acct), "user%d", i % 50);
		throttle_fail(ip, acct);
		(void)throttle_blocked(ip, acct);
		if (i % 7 == 0)
			throttle_success(ip, acct);
		auth_cache_put(acct, STORED_T, acct, strlen(acct));
		(void)auth_cache_check(acct, STORED_T, acct, strlen(acct));
		if (i % 11 == 0)
			auth_cache_forget(acct);
	}
	return NULL;
}

/* throttle and cache from several threads at once, tables kept small so
 * eviction runs all the time (meant for the ASan/TSan builds) */
START_TEST(test_threads)
{
	pthread_t th[4];
	int ids[4], i;

	throttle_reset_all();
	throttle_configure_full(5, 10, 60, 900, 64);
	auth_cache_configure(300, 16);
	for (i = 0; i < 4; i++) {
		ids[i] = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, throttle_thread,
		    &ids[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	throttle_fail(NULL, "last");
	ck_assert(!throttle_blocked(NULL, "last"));
	auth_cache_put("last", STORED_T, "pw", 2);
	ck_assert(auth_cache_check("last", STORED_T, "pw", 2));
	throttle_configure_full(10, 20, 300, 900, 0);
	throttle_reset_all();
	auth_cache_configure(300, 4096);
}
END_TEST

/* ---------------------------------------------------------------- */
/* credential cache */

#define STORED1 "{SHA256}SEhuFRToQjRv9AWx5F9EBZroJhnyMG+Z0JQNyzhukfc="
#define STORED2 "{PLAIN}" BADPW

START_TEST(test_cache_hit_miss)
{
	auth_cache_configure(300, 100);
	ck_assert(!auth_cache_check("u@x", STORED1, PW, strlen(PW)));
	auth_cache_put("u@x", STORED1, PW, strlen(PW));
	ck_assert(auth_cache_check("u@x", STORED1, PW, strlen(PW)));
	/* wrong password, other account, truncated password */
	ck_assert(!auth_cache_check("u@x", STORED1, BADPW, strlen(BADPW)));
	ck_assert(!auth_cache_check("v@x", STORED1, PW, strlen(PW)));
	ck_assert(!auth_cache_check("u@x", STORED1, PW, strlen(PW) - 1));
	/* the password changed in the directory */
	ck_assert(!auth_cache_check("u@x", STORED2, PW, strlen(PW)));
	ck_assert(!auth_cache_check("u@x", STORED2, BADPW, strlen(BADPW)));
	auth_cache_put("u@x", STORED2, BADPW, strlen(BADPW));
	ck_assert(auth_cache_check("u@x", STORED2, BADPW, strlen(BADPW)));
	ck_assert(!auth_cache_check("u@x", STORED1, PW, strlen(PW)));
	auth_cache_forget("u@x");
	ck_assert(!auth_cache_check("u@x", STORED2, BADPW, strlen(BADPW)));
	auth_cache_forget("nobody");
	ck_assert(!auth_cache_check(NULL, STORED1, PW, strlen(PW)));
}
END_TEST

START_TEST(test_cache_ttl)
{
	auth_cache_configure(1, 100);
	auth_cache_put("t@x", STORED1, PW, strlen(PW));
	ck_assert(auth_cache_check("t@x", STORED1, PW, strlen(PW)));
	usleep(1100 * 1000);
	ck_assert(!auth_cache_check("t@x", STORED1, PW, strlen(PW)));
	auth_cache_configure(300, 4096);
}
END_TEST

START_TEST(test_cache_bounded_and_off)
{
	auth_cache_configure(300, 2);
	auth_cache_put("a", STORED1, PW, strlen(PW));
	auth_cache_put("b", STORED1, PW, strlen(PW));
	ck_assert(auth_cache_check("a", STORED1, PW, strlen(PW)));
	auth_cache_put("c", STORED1, PW, strlen(PW));	/* b is oldest */
	ck_assert(!auth_cache_check("b", STORED1, PW, strlen(PW)));
	ck_assert(auth_cache_check("a", STORED1, PW, strlen(PW)));
	ck_assert(auth_cache_check("c", STORED1, PW, strlen(PW)));
	auth_cache_configure(0, 100);
	ck_assert(!auth_cache_check("a", STORED1, PW, strlen(PW)));
	auth_cache_put("a", STORED1, PW, strlen(PW));
	ck_assert(!auth_cache_check("a", STORED1, PW, strlen(PW)));
	auth_cache_configure(300, 4096);
}
END_TEST

/* ---------------------------------------------------------------- */
/* facteur hash */

/* run_hash: feed input on stdin, capture stdout into out. */
static int
run_hash(const char *input, size_t inlen, char **argv, int argc, char *out,
    size_t outlen)
{
	char tin[] = "/tmp/check_auth_inXXXXXX";
	char tout[] = "/tmp/check_auth_outXXXXXX";
	int fin, fout, saved_in, saved_out, ret;
	ssize_t n;

	fin = mkstemp(tin);
	fout = mkstemp(tout);
	ck_assert(fin >= 0 && fout >= 0);
	ck_assert(write(fin, input, inlen) == (ssize_t)inlen);
	lseek(fin, 0, SEEK_SET);
	fflush(stdout);
	saved_in = dup(0);
	saved_out = dup(1);
	dup2(fin, 0);
	dup2(fout, 1);
	clearerr(stdin);
	ret = cli_hash(argc, argv);
	fflush(stdout);
	dup2(saved_in, 0);
	dup2(saved_out, 1);
	close(saved_in);
	close(saved_out);
	clearerr(stdin);
	lseek(fout, 0, SEEK_SET);
	n = read(fout, out, outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fin);
	close(fout);
	unlink(tin);
	unlink(tout);
	return ret;
}

START_TEST(test_cli_hash)
{
	char out[512];
	char *a1[] = { "hash", "--scheme", "SSHA512", NULL };
	char *a2[] = { "hash", "-c", "/nonexistent.conf", "--scheme=plain",
	    NULL };
	char *a3[] = { "hash", "--scheme", "MD5-CRYPT", NULL };
	char *a4[] = { "hash", "--bogus", NULL };
	char *a5[] = { "hash", "--scheme", NULL };
	char *a6[] = { "hash", NULL };

	ck_assert_int_eq(run_hash(PW "\n", strlen(PW) + 1, a1, 3, out,
	    sizeof(out)), 0);
	ck_assert_msg(strncmp(out, "{SSHA512}", 9) == 0, "%s", out);
	ck_assert(out[strlen(out) - 1] == '\n');
	out[strlen(out) - 1] = '\0';
	ck_assert_int_eq(verify(out, PW), 1);

	/* CRLF stripped, -c accepted, scheme case-insensitive */
	ck_assert_int_eq(run_hash(PW "\r\n", strlen(PW) + 2, a2, 4, out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "{PLAIN}" PW "\n");
	/* no line end at EOF is fine too */
	ck_assert_int_eq(run_hash(PW, strlen(PW), a2, 4, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "{PLAIN}" PW "\n");

	/* empty password, empty input, NUL byte: error 1, no output */
	ck_assert_int_eq(run_hash("\n", 1, a1, 3, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(run_hash("", 0, a1, 3, out, sizeof(out)), 1);
	ck_assert_int_eq(run_hash("\r\n", 2, a1, 3, out, sizeof(out)), 1);
	ck_assert_int_eq(run_hash("a\0b\n", 4, a1, 3, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "");

	/* usage errors: 2 */
	ck_assert_int_eq(run_hash(PW "\n", strlen(PW) + 1, a3, 3, out,
	    sizeof(out)), 2);
	ck_assert_int_eq(run_hash(PW "\n", strlen(PW) + 1, a4, 2, out,
	    sizeof(out)), 2);
	ck_assert_int_eq(run_hash(PW "\n", strlen(PW) + 1, a5, 2, out,
	    sizeof(out)), 2);
	ck_assert_str_eq(out, "");

	/* the default scheme is ARGON2ID */
	ck_assert_int_eq(run_hash(PW "\n", strlen(PW) + 1, a6, 1, out,
	    sizeof(out)), 0);
	ck_assert_msg(strncmp(out, "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$",
	    41) == 0, "%s", out);
}
END_TEST

START_TEST(test_cli_hash_long_line)
{
	char out[64];
	char *a[] = { "hash", "--scheme", "PLAIN", NULL };
	char *big = malloc(5000);

	memset(big, 'x', 4999);
	big[4999] = '\n';
	ck_assert_int_eq(run_hash(big, 5000, a, 3, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "");
	free(big);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc;

	tc = tcase_create("scheme");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_vector_right, 0,
	    sizeof(good_vectors) / sizeof(good_vectors[0]));
	tcase_add_loop_test(tc, test_vector_wrong, 0,
	    sizeof(good_vectors) / sizeof(good_vectors[0]));
	tcase_add_loop_test(tc, test_vector_bad, 0,
	    sizeof(bad_vectors) / sizeof(bad_vectors[0]));
	tcase_add_test(tc, test_verify_edge);
	tcase_add_test(tc, test_limits);
	tcase_add_loop_test(tc, test_hash_roundtrip, 0,
	    sizeof(hash_schemes) / sizeof(hash_schemes[0]));
	tcase_add_test(tc, test_hash_formats);
	tcase_add_test(tc, test_hash_refused);
	tcase_add_test(tc, test_argon2_concurrent);
	suite_add_tcase(s, tc);

	tc = tcase_create("sasl");
	tcase_add_test(tc, test_sasl_plain_valid);
	tcase_add_loop_test(tc, test_sasl_plain_bad, 0,
	    sizeof(sasl_bad_cases) / sizeof(sasl_bad_cases[0]));
	tcase_add_test(tc, test_sasl_plain_b64);
	tcase_add_test(tc, test_sasl_plain_lengths);
	tcase_add_test(tc, test_sasl_login_field);
	suite_add_tcase(s, tc);

	tc = tcase_create("throttle");
	tcase_add_test(tc, test_throttle_account);
	tcase_add_test(tc, test_throttle_ip);
	tcase_add_test(tc, test_throttle_default_ratio);
	tcase_add_test(tc, test_throttle_success_clears);
	tcase_add_test(tc, test_throttle_expiry_and_decay);
	tcase_add_test(tc, test_throttle_ipv6);
	tcase_add_test(tc, test_throttle_bounded);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache");
	tcase_add_test(tc, test_cache_hit_miss);
	tcase_add_test(tc, test_cache_ttl);
	tcase_add_test(tc, test_cache_bounded_and_off);
	suite_add_tcase(s, tc);

	tc = tcase_create("cli_hash");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cli_hash);
	tcase_add_test(tc, test_cli_hash_long_line);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
