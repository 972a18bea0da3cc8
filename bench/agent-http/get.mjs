// One pass = one GET /, recorded like any library request. `accept: 'none'` sends what autocannon and wrk
// send (request line and Host), so the server does the same work for every tool.
export const script = {
  name: 'bench.Get',
  async run(ctx) {
    await ctx.http.get('/', { accept: 'none' });
  },
};
